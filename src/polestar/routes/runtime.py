"""The integration runtime: connectors and routes from a config folder, running, reloadable.

``start`` loads the folder (an invalid one raises ``ConfigError``), starts
every connector (outbound, then inbound with a ``BusIngest``) and every
enabled route. ``reload`` loads it again; if anything is wrong, nothing
changes and the located problems are returned. Otherwise only the difference
is applied:

* a route that is removed, changed, or delivers to a changed connector is
  stopped gracefully (messages in flight finish; an aggregate in progress is
  completed early; a message waiting on an open breaker is handed back to the
  bus) and the new version started;
* a removed or changed connector is stopped after the routes using it, and a
  new one started before them;
* mappings are swapped at once: steps and connectors look them up by name on
  every message;
* everything else keeps running untouched.

Counters are kept by name across reloads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polestar.bus.contract import BusEngine
from polestar.connectors.contract import InboundConnector, IngestResult, OutboundConnector, RawMessage
from polestar.connectors.ingest import BusIngest, CollectionRecorder
from polestar.connectors.registry import ConnectorRegistry, default_registry
from polestar.connectors.spec import ConnectorSpec
from polestar.errors import ConfigError
from polestar.mapping.contract import InboundMapping, OutboundMapping
from polestar.mapping.loader import MappingSet
from polestar.routes.counters import ConnectorStatus, Counters, OutputView, RouteStatus, RunState
from polestar.routes.loader import IntegrationConfig, config_fingerprint, load_integration_config
from polestar.routes.outputs import ConnectorDelivery, DeliveryGate, DeliveryRecorder
from polestar.routes.pipeline import Resources, build_pipeline, describe_steps
from polestar.routes.reload import ReloadResult
from polestar.routes.runner import RouteRunner
from polestar.routes.steps.call import Call

log = logging.getLogger(__name__)


class _LiveMappings:
    """The current mapping set, looked up on each call so a reload applies at once."""

    def __init__(self, mappings: MappingSet) -> None:
        self.current = mappings

    def inbound(self, name: str) -> InboundMapping:
        return self.current.inbound(name)

    def outbound(self, name: str) -> OutboundMapping:
        return self.current.outbound(name)


class _CountingIngest:
    """A connector's ``Ingest`` that also counts what came in and what was refused."""

    def __init__(self, inner: BusIngest, counters: Counters) -> None:
        self.inner = inner
        self.counters = counters

    async def __call__(self, raw: RawMessage) -> IngestResult:
        try:
            result = await self.inner(raw)
        except Exception as exc:
            self.counters.fail(f"{raw.reference}: {type(exc).__name__}: {exc}")
            raise
        self.counters.received += len(result.event_ids)
        for rejection in result.rejected:
            self.counters.fail(f"{rejection.where}: {rejection.reason}")
        return result

    async def quarantine(self, raw: RawMessage, reason: str) -> None:
        self.counters.fail(f"{raw.reference} quarantined: {reason}", dead_lettered=True)
        await self.inner.quarantine(raw, reason)


@dataclass(slots=True)
class _Connector:
    spec: ConnectorSpec
    inbound: InboundConnector | None = None
    outbound: OutboundConnector | None = None


@dataclass(slots=True)
class _Changes:
    started: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)
    restarted: list[str] = field(default_factory=list)


class IntegrationRuntime:
    """Runs the connectors and routes of one integration config folder on a bus.

    Args:
        config_dir: the folder with ``connectors/``, ``mappings/`` and ``routes/``.
        bus: a started bus engine.
        registry: connector kinds (default: the built-in ones).
        on_collected: told of what each inbound message brought in (default: nobody).
        on_delivered: told of each message a connector delivered (default: nobody).
        breaker_clock: the circuit breakers' clock, in seconds (tests drive their own).
    """

    def __init__(
        self,
        config_dir: Path,
        bus: BusEngine,
        registry: ConnectorRegistry | None = None,
        *,
        http_endpoints: dict[str, Any] | None = None,
        soap_endpoints: dict[str, Any] | None = None,
        on_collected: CollectionRecorder | None = None,
        on_delivered: DeliveryRecorder | None = None,
        variables: Mapping[str, str] | None = None,
        breaker_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config_dir = Path(config_dir)
        self._breaker_clock = breaker_clock
        self.variables = variables
        """Fill in ``${NAME}`` in the folder's files (None: the process environment at each load)."""
        self.on_collected = on_collected
        """Told of what each inbound message brought in (the audit log's collection seam)."""
        self.on_delivered = on_delivered
        """Told of each message a connector delivered (the audit log's disclosure seam)."""
        self.delivery_gate: DeliveryGate | None = None
        """Asked before each delivery to a connector (the data-sharing agreement check)."""
        self.bus = bus
        self.registry = registry or default_registry()
        self.config: IntegrationConfig | None = None
        self.route_counters: dict[str, Counters] = {}
        self.connector_counters: dict[str, Counters] = {}
        self.http_endpoints: dict[str, Any] = {} if http_endpoints is None else http_endpoints
        """HTTP inbound connectors by name, kept current: ``create_ingest_router(http_endpoints)``."""
        self.soap_endpoints: dict[str, Any] = {} if soap_endpoints is None else soap_endpoints
        """SOAP inbound connectors by name, kept current: ``create_soap_router(soap_endpoints)``."""
        self.last_reload: ReloadResult | None = None
        self.fingerprint: str | None = None
        """The digest of the files last loaded (valid or not): see ``config_fingerprint``."""
        self._mappings = _LiveMappings(MappingSet({}, {}, {}))
        self._routes: dict[str, RouteRunner] = {}
        self._connectors: dict[str, _Connector] = {}
        self._lock = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the folder and start everything in it; ``ConfigError`` if it is invalid."""
        async with self._lock:
            config = self._load()
            await self._apply(config, _Changes())

    async def stop(self) -> None:
        """Stop every route, then every connector."""
        async with self._lock:
            # Together, not one by one: each route notices its stop only when its fetch ends.
            names = list(self._routes)
            results = await asyncio.gather(*map(self._stop_route, names), return_exceptions=True)
            for name, result in zip(names, results, strict=True):
                if isinstance(result, Exception):
                    log.error("route %s did not stop cleanly: %r", name, result)
            for name in list(self._connectors):
                await self._stop_connector(name)
            self.config = None

    async def reload(self) -> ReloadResult:
        """Load the folder again and apply the difference, or change nothing if it is invalid."""
        async with self._lock:
            try:
                config = self._load()
            except ConfigError as exc:
                result = ReloadResult.refused(exc)
                log.error(  # noqa: TRY400 - a refused config is reported, not a crash to trace
                    "integration config not reloaded, the running version carries on:\n%s", exc
                )
            else:
                changes = _Changes()
                await self._apply(config, changes)
                result = ReloadResult(
                    applied=True,
                    started=changes.started,
                    stopped=changes.stopped,
                    restarted=changes.restarted,
                )
                log.info("integration config reloaded: %s", result.model_dump(exclude={"problems"}))
            self.last_reload = result
            return result

    def _load(self) -> IntegrationConfig:
        self.fingerprint = config_fingerprint(self.config_dir)
        return load_integration_config(self.config_dir, self.registry, variables=self.variables)

    # -- applying a configuration ----------------------------------------------------------------

    async def _apply(self, new: IntegrationConfig, changes: _Changes) -> None:
        old = self.config
        old_connectors = old.connectors if old else {}
        old_routes = old.routes if old else {}
        gone_connectors = {n for n in old_connectors if new.connectors.get(n) != old_connectors[n]}
        affected = old.routes_using(gone_connectors) if old else set()
        gone_routes = {n for n in old_routes if new.routes.get(n) != old_routes[n]} | affected

        for name in sorted(gone_routes & set(self._routes)):
            await self._stop_route(name)
        for name in sorted(gone_connectors):
            await self._stop_connector(name)

        self.config = new
        self._mappings.current = new.mappings

        for name in sorted(n for n in new.connectors if n not in self._connectors):
            await self._start_connector(new.connectors[name])
            (changes.restarted if name in old_connectors else changes.started).append(f"connector {name}")
        for name in sorted(n for n in old_connectors if n not in new.connectors):
            changes.stopped.append(f"connector {name}")
            self.connector_counters.pop(name, None)

        for name in sorted(n for n in old_routes if n not in new.routes):
            changes.stopped.append(f"route {name}")
            self.route_counters.pop(name, None)
        for name, route in sorted(new.routes.items()):
            if name in self._routes:
                continue
            counters = self.route_counters.setdefault(name, Counters())
            if not route.enabled:
                counters.state = RunState.DISABLED
                if name in old_routes and old_routes[name].enabled:
                    changes.stopped.append(f"route {name}")
                continue
            await self._start_route(name)
            (
                changes.restarted if name in old_routes and old_routes[name].enabled else changes.started
            ).append(f"route {name}")

    async def _start_route(self, name: str) -> None:
        assert self.config is not None
        config = self.config.routes[name]
        counters = self.route_counters.setdefault(name, Counters())
        counters.circuit_open.clear()
        resources = Resources(
            mappings=self._mappings,
            connectors=self.config.connectors,
            bus=self.bus,
            outbound={n: c.outbound for n, c in self._connectors.items() if c.outbound is not None},
            connector_counters=self.connector_counters,
            clock=self._breaker_clock,
        )
        try:
            pipeline = build_pipeline(
                config, resources, on_breaker=RouteRunner.breaker_listener(counters, name)
            )
            for output in pipeline.outputs.values():
                if isinstance(output, ConnectorDelivery):
                    output.on_delivered = self.on_delivered
                    output.gate = self.delivery_gate
            for _, step in pipeline.steps:
                if isinstance(step, Call):
                    step.on_delivered = self.on_delivered
                    step.gate = self.delivery_gate
            runner = RouteRunner(config, pipeline, self.bus, counters, self.connector_counters)
            await runner.start()
        except Exception as exc:
            log.exception("route %s could not start", name)
            counters.error(f"could not start: {type(exc).__name__}: {exc}")
            counters.state = RunState.FAILED
            return
        self._routes[name] = runner

    async def _stop_route(self, name: str) -> None:
        runner = self._routes.pop(name, None)
        if runner is not None:
            await runner.stop()

    async def _start_connector(self, spec: ConnectorSpec) -> None:
        counters = self.connector_counters.setdefault(spec.name, Counters())
        entry = _Connector(spec)
        self._connectors[spec.name] = entry
        try:
            if spec.outbound is not None:
                outbound = self.registry.build_outbound(spec)
                await outbound.start()
                entry.outbound = outbound
            if spec.inbound is not None:
                inbound = self.registry.build_inbound(spec)
                ingest = _CountingIngest(
                    BusIngest(self.bus, self._mappings.inbound, spec, on_collected=self.on_collected),
                    counters,
                )
                if spec.kind == "http":
                    self.http_endpoints[spec.name] = inbound
                elif spec.kind == "soap":
                    self.soap_endpoints[spec.name] = inbound
                await inbound.start(ingest)
                entry.inbound = inbound
        except Exception as exc:
            log.exception("connector %s could not start", spec.name)
            counters.error(f"could not start: {type(exc).__name__}: {exc}")
            counters.state = RunState.FAILED
            return
        counters.state = RunState.RUNNING

    async def _stop_connector(self, name: str) -> None:
        entry = self._connectors.pop(name, None)
        self.http_endpoints.pop(name, None)
        self.soap_endpoints.pop(name, None)
        if entry is None:
            return
        for side in (entry.inbound, entry.outbound):
            if side is None:
                continue
            try:
                await side.stop()
            except Exception:
                log.exception("connector %s did not stop cleanly", name)
        counters = self.connector_counters.get(name)
        if counters is not None:
            counters.state = RunState.STOPPED

    # -- what operators see ----------------------------------------------------------------------

    def route_names(self) -> list[str]:
        """Every configured route, sorted."""
        return sorted(self.config.routes) if self.config else []

    def route_status(self, name: str) -> RouteStatus:
        """One route's status; ``KeyError`` if there is no such route."""
        if self.config is None or name not in self.config.routes:
            raise KeyError(name)
        config = self.config.routes[name]
        counters = self.route_counters.setdefault(name, Counters())
        runner = self._routes.get(name)
        breakers = runner.pipeline.breakers if runner else {}
        outputs = [
            OutputView(
                name=o.output_name,
                connector=getattr(o, "connector", None),
                subject=getattr(o, "subject", None),
                circuit=breakers[o.output_name].state.value if o.output_name in breakers else None,
            )
            for o in config.to
        ]
        return RouteStatus(
            name=name,
            description=config.description,
            state=counters.effective_state,
            group=config.group,
            subjects=list(config.source.subjects),
            steps=describe_steps(config),
            outputs=outputs,
            file=self.config.file_of("route", name),
            counters=counters.view(),
        )

    def route_statuses(self) -> list[RouteStatus]:
        """Every route's status."""
        return [self.route_status(name) for name in self.route_names()]

    def connector_statuses(self) -> list[ConnectorStatus]:
        """Every connector's status."""
        if self.config is None:
            return []
        found = []
        for name, spec in sorted(self.config.connectors.items()):
            counters = self.connector_counters.setdefault(name, Counters())
            found.append(
                ConnectorStatus(
                    name=name,
                    kind=spec.kind,
                    inbound=spec.inbound is not None,
                    outbound=spec.outbound is not None,
                    state=counters.effective_state,
                    file=self.config.file_of("connector", name),
                    counters=counters.view(),
                )
            )
        return found

    def outputs_of(self, route: str) -> Iterable[ConnectorDelivery]:
        """The connector outputs of a running route (for tests and diagnostics)."""
        runner = self._routes.get(route)
        if runner is None:
            return []
        return [o for o in runner.pipeline.outputs.values() if isinstance(o, ConnectorDelivery)]

    def runner(self, route: str) -> RouteRunner | None:
        """The running route ``route``, if it runs."""
        return self._routes.get(route)

    def outbound_connector(self, name: str) -> OutboundConnector | None:
        """The running outbound side of connector ``name`` (None if absent, stopped or failed)."""
        entry = self._connectors.get(name)
        return entry.outbound if entry is not None else None
