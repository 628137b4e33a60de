"""The FastAPI application: ``create_app(config)`` builds it without touching the disk or network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from polestar.__about__ import __version__
from polestar.api.health import ComponentStatus, HubState
from polestar.api.health import router as health_router
from polestar.api.limits import BodySizeLimit
from polestar.api.problems import PROBLEM_RESPONSES, install_problem_handlers
from polestar.config import HubConfig

API_DESCRIPTION = """\
Polestar is an integration hub for policing and justice: one canonical POLE
model (People, Objects, Locations, Events), one durable event bus, and
connectors to each system a force runs.

Errors are returned as RFC 9457 problem details (`application/problem+json`).
"""


class ServiceIndex(BaseModel):
    """Where to go next."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["Polestar"])
    version: str = Field(examples=[__version__])
    links: dict[str, str] = Field(description="Link relation to path.", examples=[{"health": "/health"}])


def create_app(config: HubConfig) -> FastAPI:
    """The hub's HTTP API for ``config``; components start and stop in its lifespan."""
    hub = HubState(config=config, components={"api": ComponentStatus.STARTING})

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Components (bus, store, ...) join here as they land: start in order, stop in reverse.
        hub.components["api"] = ComponentStatus.OK
        try:
            yield
        finally:
            hub.components["api"] = ComponentStatus.STOPPING

    app = FastAPI(
        title="Polestar",
        summary="Integration hub for policing and justice",
        description=API_DESCRIPTION,
        version=__version__,
        lifespan=lifespan,
        redoc_url=None,
        responses=PROBLEM_RESPONSES,
        license_info={"name": "Apache-2.0", "identifier": "Apache-2.0"},
    )
    app.state.hub = hub
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=config.api.max_request_bytes)
    app.include_router(health_router)

    @app.get("/", summary="Service index", tags=["operations"])
    async def index() -> ServiceIndex:
        """The hub's name, version and where its documents are."""
        return ServiceIndex(
            name="Polestar",
            version=__version__,
            links={"health": "/health", "ready": "/ready", "docs": "/docs", "openapi": "/openapi.json"},
        )

    return app
