"""Every error the security component raises, in one tree.

::

    SecurityError                     (a PolestarError)
    ├── AuthenticationFailed          no token, or one that is expired, forged, for another audience... (401)
    ├── AccessDenied                  policy refused the action; ``decision`` says which policy (403)
    │   └── PurposeRequired           policy wants a stated purpose and none was given (400)
    ├── RateLimited                   the caller made too many requests; ``retry_after`` seconds (429)
    ├── ClientRefused                 OAuth2 client credentials are unknown or wrong (401)
    └── SecretUnavailable             a SecretRef's environment variable or file is missing or empty

``AgreementRefused`` (an outbound flow with no data-sharing agreement) is a
``polestar.errors.DeliveryRefused`` as well, so the route dead-letters it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from polestar.errors import DeliveryRefused, PolestarError

if TYPE_CHECKING:
    from polestar.security.policy import Decision


class SecurityError(PolestarError):
    """Base of every error the security component raises."""


class AuthenticationFailed(SecurityError):  # noqa: N818 - reads as the outcome the caller sees
    """The caller is not identified: no token, or one that cannot be trusted (says why)."""


class AccessDenied(SecurityError):  # noqa: N818 - reads as the outcome the caller sees
    """Policy refused the action; ``decision`` names the policies that decided."""

    def __init__(self, message: str, decision: Decision | None = None) -> None:
        super().__init__(message)
        self.decision = decision


class PurposeRequired(AccessDenied):
    """Policy requires a stated purpose (``X-Polestar-Purpose``) and none was given."""


class RateLimited(SecurityError):  # noqa: N818 - reads as the outcome the caller sees
    """The caller made more requests than its rate allows; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClientRefused(SecurityError):  # noqa: N818 - reads as the outcome the caller sees
    """OAuth2 client credentials were unknown or wrong (never says which, to the caller)."""


class SecretUnavailable(SecurityError):  # noqa: N818 - a state, named as operators say it
    """A secret's environment variable or file is missing, unreadable or empty."""


class AgreementRefused(DeliveryRefused):
    """No data-sharing agreement allows this flow, so it does not happen: it is dead-lettered."""
