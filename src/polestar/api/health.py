"""Liveness (``/health``) and readiness (``/ready``) for load balancers and operators."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from polestar.__about__ import __version__
from polestar.config import HubConfig, Profile


class ComponentStatus(StrEnum):
    """Where a component is in its life."""

    STARTING = "starting"
    OK = "ok"
    STOPPING = "stopping"
    FAILED = "failed"


@dataclass
class HubState:
    """What the running API knows about the hub: its configuration and each component's status."""

    config: HubConfig
    components: dict[str, ComponentStatus] = field(default_factory=dict)


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


class Readiness(BaseModel):
    """Whether the hub can take work now: ok only when every component is ok."""

    model_config = ConfigDict(extra="forbid")

    status: ComponentStatus = Field(description="ok when every component is ok.")
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
)
async def ready(request: Request, response: Response) -> Readiness:
    """Whether the hub can take work: 200 when every component is ok, else 503."""
    components = [
        ComponentReport(name=name, status=status) for name, status in sorted(_hub(request).components.items())
    ]
    all_ok = bool(components) and all(c.status is ComponentStatus.OK for c in components)
    if not all_ok:
        response.status_code = HTTPStatus.SERVICE_UNAVAILABLE
    return Readiness(status=ComponentStatus.OK if all_ok else ComponentStatus.STARTING, components=components)
