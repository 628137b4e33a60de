"""Running one route on its consumer group, and deciding what each failure means.

==============================================  ===============================================
the message's steps and outputs...              the delivery is
==============================================  ===============================================
succeed (or filter it out)                      acknowledged
raise ``DeliveryFailed`` (down, 5xx, timeout)   nacked: redelivered after the route's backoff or
                                                the system's ``Retry-After``, whichever is longer;
                                                dead-lettered once ``max_attempts`` are used
raise ``CircuitOpen`` while the route stops     nacked with the breaker's remaining open time
raise ``DeliveryRefused``, ``MappingFailed``,   rejected: dead-lettered now with the reason
``Reject`` or ``PublishRefused``
raise anything else                             nacked with the error's text (default backoff)
==============================================  ===============================================

A nack uses up one attempt on the bus. That is why an open circuit breaker
does not fail messages: a delivery waits (its lease kept alive by the worker's
heartbeat) until the breaker lets it through, and only a stopping route hands
it back with a nack. Dead letters can be replayed to the route's group with
``polestar bus dead-letters replay``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from enum import StrEnum

from polestar.bus.contract import BusEngine, BusMessage, Consumer, ConsumerSpec, Delivery
from polestar.bus.worker import MAX_REASON, Reject, run_consumer
from polestar.errors import (
    BusError,
    CircuitOpen,
    DeliveryFailed,
    DeliveryRefused,
    MappingFailed,
    PublishRefused,
)
from polestar.routes.breaker import BreakerState
from polestar.routes.config import ConnectorOutput, RouteConfig
from polestar.routes.counters import Counters, RunState
from polestar.routes.pipeline import Pipeline, RunOutcome
from polestar.routes.settlement import settlement_scope

log = logging.getLogger(__name__)


class Action(StrEnum):
    """How a failed delivery is settled."""

    RETRY = "retry"
    DEAD_LETTER = "dead-letter"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The settlement for one failure."""

    action: Action
    reason: str
    delay: float | None = None
    """Seconds before redelivery; None: the group's backoff."""


def verdict(error: BaseException, *, attempt: int, spec: ConsumerSpec) -> Verdict:
    """What to do with a delivery whose handling raised ``error`` on attempt ``attempt``."""
    reason = (f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)[:MAX_REASON]
    if isinstance(error, CircuitOpen):
        return Verdict(Action.RETRY, reason, error.retry_after)
    if isinstance(error, DeliveryFailed):
        backoff = spec.backoff.delay(attempt)
        return Verdict(Action.RETRY, reason, max(backoff, error.retry_after or 0.0))
    if isinstance(error, Reject | DeliveryRefused | MappingFailed | PublishRefused):
        return Verdict(Action.DEAD_LETTER, reason)
    return Verdict(Action.RETRY, reason)


class RouteRunner:
    """One route's consumer: takes its messages off the bus, runs the pipeline, settles each."""

    def __init__(
        self,
        config: RouteConfig,
        pipeline: Pipeline,
        bus: BusEngine,
        counters: Counters,
        connector_counters: dict[str, Counters] | None = None,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.bus = bus
        self.counters = counters
        self.connector_counters = connector_counters or {}
        self.spec = config.consumer_spec()
        self._stopping = asyncio.Event()
        self._consumer: Consumer | None = None
        self._task: asyncio.Task[None] | None = None

    @staticmethod
    def breaker_listener(counters: Counters, route: str) -> BreakerListener:
        """A callback keeping ``counters.circuit_open`` up to date and logging each change."""
        return BreakerListener(counters, route)

    async def start(self) -> None:
        """Join the route's consumer group and start handling messages."""
        self._consumer = await self.bus.subscribe(self.spec)
        self._task = asyncio.create_task(self._run(self._consumer), name=f"route {self.config.name}")
        self.counters.state = RunState.RUNNING

    async def stop(self) -> None:
        """Stop taking messages; those in flight finish (or are handed back) before this returns."""
        self._stopping.set()
        self.pipeline.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            with contextlib.suppress(BusError):
                await self._consumer.close()
        self.counters.state = RunState.STOPPED

    @property
    def running(self) -> bool:
        """True while the consumer loop runs."""
        return self._task is not None and not self._task.done()

    async def _run(self, consumer: Consumer) -> None:
        try:
            await run_consumer(
                _SettleOnce(consumer),
                delivery_handler=self._handle,
                stop_event=self._stopping,
                concurrency=self.config.source.concurrency,
            )
        except Exception as exc:
            log.exception("route %s stopped on an error", self.config.name)
            self.counters.error(f"the route stopped: {exc}")
            self.counters.state = RunState.FAILED
            raise

    async def _handle(self, delivery: Delivery) -> None:
        self.counters.received += 1
        outcome = RunOutcome()
        with settlement_scope() as settlement:
            try:
                await self.pipeline.run(delivery.message.envelope, self._stopping, outcome)
            except Exception as exc:  # noqa: BLE001 - every failure is settled below, never lost
                settlement.settled(exc)
                await self._failed(delivery, exc, outcome)
                return
            settlement.settled(None)
        try:
            await delivery.ack()
        except BusError as exc:  # the lease lapses and the message comes again: delivery is at least once
            log.warning("route %s: could not acknowledge a delivery: %s", self.config.name, exc)
            return
        self.counters.delivered += outcome.sent
        if outcome.sent == 0:
            if settlement.absorbed:
                self.counters.aggregated += 1
            else:
                self.counters.filtered += 1

    async def _failed(self, delivery: Delivery, error: Exception, outcome: RunOutcome) -> None:
        decided = verdict(error, attempt=delivery.attempt, spec=self.spec)
        dead = decided.action is Action.DEAD_LETTER or delivery.attempt >= self.spec.max_attempts
        where = f"output {outcome.failed_output}" if outcome.failed_output else "steps"
        text = f"{_describe(delivery.message)} attempt {delivery.attempt} ({where}): {decided.reason}"
        self.counters.fail(text, dead_lettered=dead)
        connector = self._connector_of(outcome.failed_output)
        if dead and connector is not None:
            connector.dead_lettered += 1
        log.warning("route %s: %s%s", self.config.name, text, " -> dead letter" if dead else "")
        if decided.action is Action.DEAD_LETTER:
            await delivery.reject(decided.reason)
        else:
            await delivery.nack(decided.reason, delay=decided.delay)

    def _connector_of(self, output: str | None) -> Counters | None:
        if output is None:
            return None
        for candidate in self.config.to:
            if candidate.output_name == output and isinstance(candidate, ConnectorOutput):
                return self.connector_counters.get(candidate.connector)
        return None


class BreakerListener:
    """Keeps a route's counters in step with its breakers' states."""

    def __init__(self, counters: Counters, route: str) -> None:
        self.counters = counters
        self.route = route

    def __call__(self, output: str, state: BreakerState) -> None:
        """Record that ``output``'s breaker is now ``state``."""
        if state is BreakerState.CLOSED:
            self.counters.circuit_open.discard(output)
        else:
            self.counters.circuit_open.add(output)
        log.warning("route %s: circuit breaker of %s is %s", self.route, output, state.value)


def _describe(message: BusMessage) -> str:
    return f"message {message.sequence} ({message.envelope.type} {message.envelope.id})"


class _SettleOnce:
    """A consumer whose deliveries ignore a second settlement.

    The route settles each delivery itself (a nack needs its own delay); the
    worker's acknowledgement that follows is then a no-op.
    """

    def __init__(self, consumer: Consumer) -> None:
        self._consumer = consumer

    @property
    def spec(self) -> ConsumerSpec:
        return self._consumer.spec

    async def fetch(self, max_messages: int = 1, timeout: float = 1.0) -> list[Delivery]:
        return [_Once(d) for d in await self._consumer.fetch(max_messages, timeout)]

    async def close(self) -> None:
        await self._consumer.close()


class _Once:
    def __init__(self, delivery: Delivery) -> None:
        self._delivery = delivery
        self._settled = False

    @property
    def message(self) -> BusMessage:
        return self._delivery.message

    @property
    def attempt(self) -> int:
        return self._delivery.attempt

    async def ack(self) -> None:
        if self._take():
            await self._delivery.ack()

    async def nack(self, reason: str, *, delay: float | None = None) -> None:
        if self._take():
            await self._delivery.nack(reason, delay=delay)

    async def in_progress(self) -> None:
        if not self._settled:
            await self._delivery.in_progress()

    async def reject(self, reason: str) -> None:
        if self._take():
            await self._delivery.reject(reason)

    def _take(self) -> bool:
        if self._settled:
            return False
        self._settled = True
        return True
