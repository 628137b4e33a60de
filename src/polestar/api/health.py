"""Liveness (``/health``) and readiness (``/ready``) for load balancers and operators."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus
from typing import TYPE_CHECKING, Protocol

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from polestar.__about__ import __version__
from polestar.config import HubConfig, Profile

if TYPE_CHECKING:
    from polestar.api.audit_component import AuditComponent
    from polestar.api.bus_component import BusComponent


class ComponentStatus(StrEnum):
    """Where a component is in its life."""

    STARTING = "starting"
    OK = "ok"
    STOPPING = "stopping"
    UNAVAILABLE = "unavailable"
    """It cannot take work now (e.g. its broker is unreachable); the hub keeps trying."""
    FAILED = "failed"


_WORST_FIRST = (
    ComponentStatus.FAILED,
    ComponentStatus.UNAVAILABLE,
    ComponentStatus.STOPPING,
    ComponentStatus.STARTING,
)


@dataclass
class HubState:
    """What the running API knows about the hub: its configuration and each component's status."""

    config: HubConfig
    components: dict[str, ComponentStatus] = field(default_factory=dict)
    bus: BusComponent | None = None
    integration: IntegrationStatus | None = None
    audit: AuditComponent | None = None
    store: IntegrationStatus | None = None


class IntegrationStatus(Protocol):
    """What /ready asks of the integrations component."""

    def check(self) -> tuple[ComponentStatus, str | None]:
        """The component's status and, when not ok, why."""
        ...


class Health(BaseModel):
    """The hub process is alive and answering."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(
        default="ok", description="Always ok: an answer at all is the signal.", examples=["ok"]
    )
    version: str = Field(description="The Polestar version running.", examples=[__version__])
    profile: Profile = Field(description="The deployment profile.")


class ComponentReport(BaseModel):
    """One component's readiness."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="The component, e.g. api, bus, store.", examples=["api"])
    status: ComponentStatus = Field(description="ok when it can take work.")
    detail: str | None = Field(
        default=None,
        description="Why it is not ok, when known.",
        examples=["cannot connect to NATS at nats://nats-1:4222: ...; retrying in 8 s"],
    )


class Readiness(BaseModel):
    """Whether the hub can take work now: ok only when every component is ok."""

    model_config = ConfigDict(extra="forbid")

    status: ComponentStatus = Field(description="ok when every component is ok, else the worst status.")
    components: list[ComponentReport] = Field(description="Each component, by name.")


router = APIRouter(tags=["operations"])


def _hub(request: Request) -> HubState:
    hub = request.app.state.hub
    assert isinstance(hub, HubState)
    return hub


@router.get("/health", summary="Liveness")
async def health(request: Request) -> Health:
    """Answers while the process runs; restart the hub if this fails."""
    return Health(version=__version__, profile=_hub(request).config.profile)


@router.get(
    "/ready",
    summary="Readiness",
    responses={HTTPStatus.SERVICE_UNAVAILABLE: {"model": Readiness, "description": "Not ready"}},
    response_model_exclude_none=True,
)
async def ready(request: Request, response: Response) -> Readiness:
    """Whether the hub can take work: 200 when every component is ok, else 503 naming which and why.

    Answers within a few seconds even when a broker does not: each probe is bounded.
    """
    hub = _hub(request)
    components = [ComponentReport(name=name, status=status) for name, status in hub.components.items()]
    if hub.bus is not None:
        status, detail = await hub.bus.check()
        components.append(ComponentReport(name="bus", status=status, detail=detail))
    if hub.integration is not None:
        status, detail = hub.integration.check()
        components.append(ComponentReport(name="integration", status=status, detail=detail))
    if hub.audit is not None:
        status, detail = hub.audit.check()
        components.append(ComponentReport(name="audit", status=status, detail=detail))
    if hub.store is not None:
        status, detail = hub.store.check()
        components.append(ComponentReport(name="store", status=status, detail=detail))
    components.sort(key=lambda c: c.name)
    statuses = {c.status for c in components}
    overall = next((s for s in _WORST_FIRST if s in statuses), ComponentStatus.OK)
    if not components:
        overall = ComponentStatus.STARTING
    if overall is not ComponentStatus.OK:
        response.status_code = HTTPStatus.SERVICE_UNAVAILABLE
    return Readiness(status=overall, components=components)
