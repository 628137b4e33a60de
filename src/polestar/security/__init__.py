"""Identity, authorisation, protective marking and data-sharing agreements: deny by default.

::

    token = issue_token(config, subject="user:pc1234", roles=["officer"], clearance="OFFICIAL-SENSITIVE")
    security = SecurityService(config, record=audit.record)
    await security.start()
    principal = await security.authenticate(f"Bearer {token}")
    await security.authorize(principal, "record.read", Resource.record(record), purpose="roadside check")
    shown = security.redact(principal, record)

Policies are Cedar files (``policies/hub.cedar``) a force edits; agreements
are YAML (``AgreementBook``). ``polestar.security.web`` is the thin seam the
HTTP API uses; ``docs/security.md`` explains the whole design.
"""

from polestar.security.agreements import Agreement, AgreementBook, AgreementDecision
from polestar.security.clients import hash_secret, verify_secret
from polestar.security.config import (
    AgreementMode,
    AuthenticationMode,
    ClientConfig,
    OidcConfig,
    RateLimitConfig,
    SecurityConfig,
)
from polestar.security.errors import (
    AccessDenied,
    AgreementRefused,
    AuthenticationFailed,
    ClientRefused,
    PurposeRequired,
    RateLimited,
    SecretUnavailable,
    SecurityError,
)
from polestar.security.keys import SigningKeys
from polestar.security.oidc import RemoteJwks
from polestar.security.policy import Decision, PolicyEngine, Resource, marking_of
from polestar.security.principal import Principal
from polestar.security.secrets import SecretRef
from polestar.security.service import SecurityService
from polestar.security.tokens import TokenVerifier, issue_token, mint

__all__ = [
    "AccessDenied",
    "Agreement",
    "AgreementBook",
    "AgreementDecision",
    "AgreementMode",
    "AgreementRefused",
    "AuthenticationFailed",
    "AuthenticationMode",
    "ClientConfig",
    "ClientRefused",
    "Decision",
    "OidcConfig",
    "PolicyEngine",
    "Principal",
    "PurposeRequired",
    "RateLimitConfig",
    "RateLimited",
    "RemoteJwks",
    "Resource",
    "SecretRef",
    "SecretUnavailable",
    "SecurityConfig",
    "SecurityError",
    "SecurityService",
    "SigningKeys",
    "TokenVerifier",
    "hash_secret",
    "issue_token",
    "marking_of",
    "mint",
    "verify_secret",
]
