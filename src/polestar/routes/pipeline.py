"""A route built from its configuration: its steps in order, its router and its outputs.

``Pipeline.process`` runs the steps on one message and returns what goes to
which output; ``Pipeline.run`` then delivers. The steps after a split run on
the parts concurrently, so a split followed by an aggregate can gather them.
``preview=True`` builds the same pipeline for ``polestar routes test``: nothing
is sent, requests are not made, and an aggregate completes at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from polestar.bus.contract import BusEngine
from polestar.connectors.codecs import DEFAULT_OPTIONS, RecordFormat
from polestar.connectors.contract import OutboundConnector
from polestar.connectors.spec import ConnectorSpec
from polestar.mapping.contract import InboundMapping, OutboundMapping
from polestar.model.envelope import Envelope
from polestar.routes.breaker import BreakerState, CircuitBreaker
from polestar.routes.config import (
    AggregateStep,
    CallStep,
    ChoiceStep,
    ConnectorOutput,
    EnrichStep,
    FilterStep,
    MapStep,
    RouteConfig,
    SetStep,
    SplitStep,
    StepConfig,
    ThrottleStep,
    WiretapStep,
)
from polestar.routes.contract import Step
from polestar.routes.counters import Counters
from polestar.routes.outputs import ConnectorDelivery, Output, SubjectPublish
from polestar.routes.steps.aggregate import Aggregator
from polestar.routes.steps.call import Call
from polestar.routes.steps.choice import ContentRouter
from polestar.routes.steps.enrich import Enrich
from polestar.routes.steps.filter import Filter
from polestar.routes.steps.split import Split
from polestar.routes.steps.throttle import Throttle
from polestar.routes.steps.transform import MapWithFunction, MapWithMapping, SetFields, load_function
from polestar.routes.steps.wiretap import WireTap


@dataclass(frozen=True, slots=True)
class StepTrace:
    """What one step produced from what it was given (``polestar routes test``)."""

    index: int
    kind: str
    given: int
    produced: tuple[Envelope, ...]
    note: str | None = None


@dataclass(slots=True)
class Routed:
    """The outcome of the steps: each envelope with the outputs it goes to."""

    deliveries: list[tuple[Envelope, tuple[str, ...]]] = field(default_factory=list)
    trace: list[StepTrace] = field(default_factory=list)


@dataclass(slots=True)
class RunOutcome:
    """What ``Pipeline.run`` did with one message."""

    sent: int = 0
    failed_output: str | None = None


class Mappings(Protocol):
    """Mappings by name: a ``MappingSet``, or the runtime's view of the current one."""

    def inbound(self, name: str) -> InboundMapping:
        """The inbound mapping ``name`` (``KeyError`` if none)."""
        ...

    def outbound(self, name: str) -> OutboundMapping:
        """The outbound mapping ``name`` (``KeyError`` if none)."""
        ...


@dataclass(frozen=True, slots=True)
class Resources:
    """What building a route needs from the rest of the hub."""

    mappings: Mappings
    connectors: Mapping[str, ConnectorSpec]
    bus: BusEngine | None = None
    outbound: Mapping[str, OutboundConnector] = field(default_factory=dict)
    connector_counters: Mapping[str, Counters] = field(default_factory=dict)
    preview: bool = False
    clock: Callable[[], float] = time.monotonic
    """The circuit breakers' clock, in seconds."""


@dataclass(frozen=True, slots=True)
class _Passthrough:
    """A step that does nothing in a preview (it would talk to another system)."""

    note: str

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        return [envelope]


class Pipeline:
    """One route's steps, router and outputs."""

    def __init__(
        self,
        config: RouteConfig,
        steps: Sequence[tuple[str, Step]],
        outputs: Mapping[str, Output],
        router: ContentRouter | None = None,
    ) -> None:
        self.config = config
        self.steps = list(steps)
        self.outputs = dict(outputs)
        self.router = router

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """The circuit breaker of each output that has one."""
        return {
            name: output.breaker
            for name, output in self.outputs.items()
            if isinstance(output, ConnectorDelivery) and output.breaker is not None
        }

    async def process(self, envelope: Envelope, *, trace: bool = False, into: Routed | None = None) -> Routed:
        """Run the steps; return each resulting envelope with the outputs it goes to.

        ``into`` collects the trace even when a step raises.
        """
        routed = into if into is not None else Routed()
        current = [envelope]
        for index, (kind, step) in enumerate(self.steps):
            if not current:
                break
            produced = await _apply(step, current)
            if trace:
                note = step.note if isinstance(step, _Passthrough) else None
                routed.trace.append(StepTrace(index, kind, len(current), tuple(produced), note))
            current = produced
        everywhere = tuple(self.outputs)
        for item in current:
            names = self.router.select(item) if self.router is not None else everywhere
            if names:
                routed.deliveries.append((item, names))
        return routed

    async def run(self, envelope: Envelope, stopping: asyncio.Event, outcome: RunOutcome) -> None:
        """Process and deliver ``envelope``; raises as the failing step or output did."""
        routed = await self.process(envelope)
        for item, names in routed.deliveries:
            for name in names:
                outcome.failed_output = name
                await self.outputs[name].deliver(item, stopping)
                outcome.sent += 1
        outcome.failed_output = None

    def close(self) -> None:
        """Complete partial aggregates (a graceful stop)."""
        for _, step in self.steps:
            if isinstance(step, Aggregator):
                step.close()


async def _apply(step: Step, envelopes: Sequence[Envelope]) -> list[Envelope]:
    if len(envelopes) == 1:
        return list(await step(envelopes[0]))
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(_call(step, item)) for item in envelopes]
    except BaseExceptionGroup as failed:
        raise _first(failed) from None
    return [made for task in tasks for made in task.result()]


async def _call(step: Step, envelope: Envelope) -> Sequence[Envelope]:
    return await step(envelope)


def _first(group: BaseExceptionGroup[BaseException]) -> BaseException:
    error: BaseException = group
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


# -- building ------------------------------------------------------------------------------------


def build_pipeline(
    config: RouteConfig,
    resources: Resources,
    *,
    on_breaker: Callable[[str, BreakerState], None] | None = None,
) -> Pipeline:
    """The pipeline for ``config``; names are assumed checked (see ``polestar.routes.loader``)."""
    steps: list[tuple[str, Step]] = []
    router: ContentRouter | None = None
    for index, step_config in enumerate(config.steps):
        if isinstance(step_config, ChoiceStep):
            router = ContentRouter(step_config)
            continue
        steps.append((step_config.step, _step(step_config, config.name, index, resources)))
    outputs: dict[str, Output] = {}
    for output_config in config.to:
        if isinstance(output_config, ConnectorOutput):
            outputs[output_config.output_name] = _connector_output(
                output_config, config.name, resources, on_breaker
            )
        else:
            outputs[output_config.output_name] = SubjectPublish(
                output_config, route=config.name, bus=resources.bus
            )
    return Pipeline(config, steps, outputs, router)


def _step(config: StepConfig, route: str, index: int, resources: Resources) -> Step:  # noqa: PLR0911 - one per kind
    preview, bus = resources.preview, resources.bus
    if isinstance(config, FilterStep):
        return Filter(config)
    if isinstance(config, MapStep):
        if config.mapping is not None:
            return MapWithMapping(
                partial(resources.mappings.inbound, config.mapping), route=route, index=index
            )
        assert config.python is not None
        return MapWithFunction(load_function(config.python), route=route, index=index)
    if isinstance(config, SetStep):
        return SetFields(config)
    if isinstance(config, SplitStep):
        return Split(config, route=route, index=index)
    if isinstance(config, AggregateStep):
        return Aggregator(config, route=route, index=index, preview=preview)
    if isinstance(config, ThrottleStep):
        return _Passthrough(f"would let {config.rate}/s through") if preview else Throttle(config)
    if isinstance(config, EnrichStep):
        if preview or bus is None:
            return _Passthrough(f"would ask {config.subject} and put the answer in data.{config.into}")
        return Enrich(config, route=route, bus=bus, index=index)
    if isinstance(config, CallStep):
        return _call_step(config, resources)
    if isinstance(config, WiretapStep):
        if preview or bus is None:
            return _Passthrough(f"would publish a copy on {config.subject}")
        return WireTap(config, route=route, bus=bus)
    raise TypeError(f"no step is built for {type(config).__name__}")  # pragma: no cover - union is closed


def _call_step(config: CallStep, resources: Resources) -> Step:
    if resources.preview:
        return _Passthrough(f"would call {config.connector} and put its answer in data.{config.into}")
    spec = resources.connectors.get(config.connector)
    mapping_name = config.mapping or (spec.mapping.outbound if spec is not None else None)
    return Call(
        config,
        spec=spec,
        connector=resources.outbound.get(config.connector),
        mapping=partial(resources.mappings.outbound, mapping_name) if mapping_name else None,
        counters=resources.connector_counters.get(config.connector),
    )


def _connector_output(
    config: ConnectorOutput,
    route: str,
    resources: Resources,
    on_breaker: Callable[[str, BreakerState], None] | None,
) -> ConnectorDelivery:
    spec = resources.connectors.get(config.connector)
    mapping_name = config.mapping or (spec.mapping.outbound if spec is not None else None)
    breaker = None
    if config.circuit_breaker is not None:
        name = config.output_name

        def changed(state: BreakerState) -> None:
            if on_breaker is not None:
                on_breaker(name, state)

        breaker = CircuitBreaker(
            config.circuit_breaker, name=f"{route}/{name}", clock=resources.clock, on_change=changed
        )
    record_format = config.format or (spec.format if spec is not None else RecordFormat.JSON)
    return ConnectorDelivery(
        config,
        connector=None if resources.preview else resources.outbound.get(config.connector),
        mapping=partial(resources.mappings.outbound, mapping_name) if mapping_name else None,
        record_format=record_format,
        codec=spec.codec if spec is not None else DEFAULT_OPTIONS,
        breaker=breaker,
        counters=resources.connector_counters.get(config.connector),
    )


def describe_steps(config: RouteConfig) -> list[str]:
    """Each step as ``kind`` plus its main setting, for listings."""
    described: list[str] = []
    for step in config.steps:
        detail: Any = {
            "filter": getattr(step, "expr", None),
            "split": getattr(step, "expr", None),
            "map": getattr(step, "mapping", None) or getattr(step, "python", None),
            "enrich": getattr(step, "subject", None),
            "call": getattr(step, "connector", None),
            "wiretap": getattr(step, "subject", None),
        }.get(step.step)
        described.append(f"{step.step} {detail}" if detail else step.step)
    return described
