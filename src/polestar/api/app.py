"""The FastAPI application: ``create_app(config)`` builds it without touching the disk or network."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from polestar.__about__ import __version__
from polestar.api.audit_component import AuditComponent
from polestar.api.bus_component import BusComponent, EngineFactory
from polestar.api.bus_routes import router as bus_routes
from polestar.api.consultations import AuditedConsultations
from polestar.api.device_component import DeviceComponent, create_device_router
from polestar.api.health import ComponentStatus, HubState
from polestar.api.health import router as health_router
from polestar.api.integration_component import IntegrationComponent
from polestar.api.limits import BodySizeLimit
from polestar.api.problems import PROBLEM_RESPONSES, install_problem_handlers
from polestar.api.store_component import StoreComponent
from polestar.api.store_routes import create_review_router, create_store_router
from polestar.bus.admin import OperatorActionSink
from polestar.bus.factory import open_engine
from polestar.config import HubConfig
from polestar.connectors.http.inbound import create_ingest_router
from polestar.connectors.soap import create_soap_router
from polestar.routes.api import create_routes_router
from polestar.search.api import create_search_router
from polestar.security import SecurityService
from polestar.security.viewer import policy_viewer
from polestar.security.web import install_security, require, require_by_method

API_DESCRIPTION = """\
Polestar is an integration hub for policing and justice: one canonical POLE
model (People, Objects, Locations, Events), one durable event bus, and
connectors to each system a force runs.

Errors are returned as RFC 9457 problem details (`application/problem+json`).
"""
SLOW_STOP_SECONDS = 5.0
"""A component still stopping after this long is named in the log (what the hub waits on)."""
COMPONENT_STOP_SECONDS = 20.0
"""A component still stopping after this long is abandoned so the rest can close (longer than
the store's own wait for its running applies)."""

log = logging.getLogger(__name__)


class ServiceIndex(BaseModel):
    """Where to go next."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["Polestar"])
    version: str = Field(examples=[__version__])
    links: dict[str, str] = Field(description="Link relation to path.", examples=[{"health": "/health"}])


def create_app(  # noqa: PLR0915 - the composition root: every component is wired here, in order
    config: HubConfig,
    *,
    bus_factory: EngineFactory = open_engine,
    on_operator_action: OperatorActionSink | None = None,
    integration_variables: Mapping[str, str] | None = None,
) -> FastAPI:
    """The hub's HTTP API for ``config``; components start and stop in its lifespan.

    Args:
        config: the hub configuration.
        bus_factory: builds the bus engine (no I/O); tests may pass their own.
        on_operator_action: receives every operator action on the bus (default: the audit log,
            or logged when ``audit.enabled`` is off).
        integration_variables: fill in ``${NAME}`` in the integration folder's files (default: the
            process environment); two hubs in one process each get their own.
    """
    audit = AuditComponent(config)
    security = SecurityService(config, record=audit.record)
    recording = audit.enabled
    if on_operator_action is None and recording:
        on_operator_action = audit.operator_action
    bus = BusComponent(config.bus, config.data_dir, factory=bus_factory, on_action=on_operator_action)
    integration = (
        None
        if config.integration_dir is None
        else IntegrationComponent(
            config.integration_dir,
            bus,
            on_collected=audit.collected if recording else None,
            on_delivered=audit.delivered if recording else None,
            variables=integration_variables,
        )
    )
    store = StoreComponent(config, bus, audit=audit)
    hub = HubState(
        config=config,
        components={"api": ComponentStatus.STARTING},
        bus=bus,
        integration=integration,
        audit=audit,
        store=store,
    )
    devices = DeviceComponent(
        integration, bus, components=hub.components, record=audit.record if recording else None
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Components join here as they land: start in order, stop in reverse. A bus that
        # cannot start does not stop the hub: /ready names it and it is retried meanwhile.
        # The audit log opens first and closes last: everything after it records into it.
        await audit.start()
        try:
            await security.start()
            await store.start()  # its bus consumer waits for the bus, and stops before it
            await bus.start()
            if integration is not None:
                await integration.start()
            await devices.start()
            hub.components["api"] = ComponentStatus.OK
            try:
                yield
            finally:
                hub.components["api"] = ComponentStatus.STOPPING
                await _stopping("the device gateway", devices.close)
                if integration is not None:
                    await _stopping("the integration runtime", integration.close)
                await _stopping("the store", store.close)
                await _stopping("the bus", bus.close)
        finally:
            await _stopping("the audit log", audit.close)

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
    install_security(  # outermost: authenticates every request; gates deliveries on agreements
        app,
        security,
        max_request_bytes=config.api.max_request_bytes,
        runtime=None if integration is None else integration.runtime,
    )
    app.include_router(health_router)
    app.include_router(bus_routes)
    consultations = AuditedConsultations(audit)  # searches and record reads, with their purpose
    app.include_router(
        create_search_router(store.services, consultations=consultations, viewer=policy_viewer)
    )
    app.include_router(create_store_router(store, consultations=consultations, viewer=policy_viewer))
    app.include_router(create_review_router(store, viewer=policy_viewer))
    app.include_router(create_device_router(devices))
    if integration is not None:
        app.include_router(
            create_routes_router(integration.runtime),
            dependencies=[Depends(require_by_method(read="routes.read", write="routes.reload"))],
        )
        app.include_router(
            create_ingest_router(integration.http_endpoints), dependencies=[Depends(require("ingest"))]
        )
        app.include_router(
            create_soap_router(integration.soap_endpoints), dependencies=[Depends(require("soap.call"))]
        )

    @app.get("/", summary="Service index", tags=["operations"])
    async def index() -> ServiceIndex:
        """The hub's name, version and where its documents are."""
        return ServiceIndex(
            name="Polestar",
            version=__version__,
            links={
                "health": "/health",
                "ready": "/ready",
                "bus": "/bus/stats",
                "docs": "/docs",
                "openapi": "/openapi.json",
            },
        )

    return app


async def _stopping(name: str, close: Callable[[], Awaitable[None]]) -> None:
    """Close one component; one that fails or hangs is logged and the rest still close.

    The rest must close even so: each releases its connections. A slow one is named while
    the hub waits for it.
    """
    slow = asyncio.get_running_loop().call_later(
        SLOW_STOP_SECONDS, log.warning, "still waiting for %s to stop after %g s", name, SLOW_STOP_SECONDS
    )
    bound = asyncio.timeout(COMPONENT_STOP_SECONDS)
    try:
        async with bound:
            await close()
    except TimeoutError:
        if not bound.expired():
            log.exception("%s did not stop cleanly; stopping the rest", name)
        else:
            log.error("%s did not stop within %g s; stopping the rest", name, COMPONENT_STOP_SECONDS)  # noqa: TRY400 - the hang is the news, not a traceback
    except Exception:
        log.exception("%s did not stop cleanly; stopping the rest", name)
    finally:
        slow.cancel()
