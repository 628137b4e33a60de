"""The hub's ``Viewer`` for the search and store routes: authorised by action, screened by policy.

``policy_viewer("record.search")`` is a FastAPI dependency that authorises the
route's action for the verified caller (``require``: 403, or 400 without a
purpose where policy wants one) and gives a ``PolicyViewer``: which records the
caller may see (``SecurityService.screen``: clearance, caveats, the action) and
what of each (field redaction). It satisfies ``polestar.search.screening.Viewer``
structurally, so search imports nothing of security.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from fastapi import Request

from polestar.security.policy import Resource
from polestar.security.principal import Principal
from polestar.security.service import SecurityService
from polestar.security.web import CurrentPrincipal, Purpose, require, security_of


class MarkedRecord(Protocol):
    """A record as policy decides on it (``polestar.search.screening.Marked``)."""

    @property
    def id(self) -> str:
        """The record's id."""
        ...

    @property
    def kind(self) -> str:
        """Its kind (person, vehicle, link ...)."""
        ...

    @property
    def marking(self) -> str:
        """Its protective marking label."""
        ...


class PolicyViewer:
    """What one caller may see, for one action and stated purpose."""

    def __init__(
        self, security: SecurityService, principal: Principal, *, action: str, purpose: str | None
    ) -> None:
        self.security, self.principal, self.action, self.purpose = security, principal, action, purpose

    @property
    def actor(self) -> str:
        """The verified caller (``user:pc1234``, ``system:cad``)."""
        return self.principal.subject

    async def visible(self, records: Sequence[MarkedRecord]) -> set[str]:
        """The ids of ``records`` policy lets the caller see (each decision audited)."""
        resources = [Resource.record({"id": r.id, "kind": r.kind, "marking": r.marking}) for r in records]
        return await self.security.screen(self.principal, self.action, resources, purpose=self.purpose)

    def redact(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """``document`` without the fields policy hides from the caller."""
        return self.security.redact(self.principal, document)


def policy_viewer(action: str) -> Callable[..., Awaitable[PolicyViewer]]:
    """A dependency authorising ``action`` on the route, giving the caller's ``PolicyViewer``."""
    authorise = require(action)

    async def viewer(request: Request, principal: CurrentPrincipal, purpose: Purpose = None) -> PolicyViewer:
        await authorise(request, principal, purpose)
        return PolicyViewer(security_of(request), principal, action=action, purpose=purpose)

    return viewer
