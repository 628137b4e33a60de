"""A downstream HTTP system that is down for a while: retries, dead letters, replay, circuit breaker."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Protocol

import pytest
from _downstream import Downstream
from _routes_helpers import custody_event, dead_letters_of, eventually, http_connector, write

from polestar.bus.sqlite import SqliteEngine
from polestar.routes.counters import RunState
from polestar.routes.runtime import IntegrationRuntime


class StartRuntime(Protocol):
    def __call__(
        self, route_yaml: str, *, breaker_clock: Callable[[], float] = ...
    ) -> Awaitable[IntegrationRuntime]: ...


class BreakerClock:
    """The circuit breakers' clock, moved by the test; counts how often a breaker read it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def start_runtime(
    config_dir: Path, bus: SqliteEngine, downstream: Downstream
) -> AsyncIterator[StartRuntime]:
    started: list[IntegrationRuntime] = []

    async def start(
        route_yaml: str, *, breaker_clock: Callable[[], float] = time.monotonic
    ) -> IntegrationRuntime:
        http_connector(config_dir, downstream.url)
        write(config_dir / "routes" / "custody.yaml", route_yaml)
        runtime = IntegrationRuntime(config_dir, bus, breaker_clock=breaker_clock)
        await runtime.start()
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        await runtime.stop()


ROUTE = """
routes:
  - name: custody-to-crime
    description: Custody episodes to the crime recording system
    from:
      subjects: [custody.>]
      max_attempts: {attempts}
      backoff: {{initial: 0.1, multiplier: 2, maximum: 0.4, jitter: 0}}
      ordered_by_key: {ordered}
    to:
      - connector: crime-system
        {breaker}
"""


def route(attempts: int = 10, *, ordered: bool = False, breaker: str = "") -> str:
    return ROUTE.format(attempts=attempts, ordered=str(ordered).lower(), breaker=breaker)


async def test_messages_are_retried_while_the_system_is_down_and_delivered_when_it_returns(
    start_runtime: StartRuntime, bus: SqliteEngine, downstream: Downstream
) -> None:
    await downstream.down()
    runtime = await start_runtime(route(attempts=20))
    event = custody_event(1)
    await bus.publish(event, subject="custody.episode.opened")

    counters = runtime.route_counters["custody-to-crime"]
    await eventually(lambda: counters.failed >= 3)
    assert "ConnectError" in (counters.last_error.text if counters.last_error else "")

    await downstream.up()
    await eventually(lambda: downstream.received)
    assert downstream.received[0].body["custody_record_number"] == "01CX/000001/26"
    assert downstream.received[0].headers["idempotency-key"] == event.id
    await eventually(lambda: counters.delivered == 1)
    assert counters.dead_lettered == 0
    assert runtime.connector_statuses()[0].counters.delivered == 1


async def test_backoff_grows_between_attempts(
    start_runtime: StartRuntime, bus: SqliteEngine, downstream: Downstream
) -> None:
    downstream.failing(503)
    await start_runtime(route(attempts=4))
    await bus.publish(custody_event(1), subject="custody.episode.opened")

    await eventually(lambda: len(downstream.calls) >= 4)
    gaps = [b - a for a, b in zip(downstream.calls, downstream.calls[1:], strict=False)]
    # backoff 0.1, 0.2, 0.4 (no jitter): each wait at least its delay, and growing
    assert gaps[0] >= 0.09
    assert gaps[1] >= 0.19
    assert gaps[2] >= 0.38


async def test_retry_after_from_the_system_is_honoured(
    start_runtime: StartRuntime, bus: SqliteEngine, downstream: Downstream
) -> None:
    downstream.failing(503, retry_after="1")
    await start_runtime(route(attempts=5))
    await bus.publish(custody_event(1), subject="custody.episode.opened")

    await eventually(lambda: downstream.calls)
    downstream.healthy()
    await eventually(lambda: downstream.received)
    assert downstream.received[0].at - downstream.calls[0] >= 0.95


async def test_dead_lettered_after_the_configured_attempts_then_replayed_when_the_system_is_back(
    start_runtime: StartRuntime, bus: SqliteEngine, downstream: Downstream
) -> None:
    downstream.failing(503)
    runtime = await start_runtime(route(attempts=3))
    await bus.publish(custody_event(7), subject="custody.episode.opened")

    letters = await dead_letters_of(bus, "route-custody-to-crime")
    assert len(downstream.calls) == 3
    assert "503" in letters[0].reason
    assert len(letters[0].attempts) == 3
    counters = runtime.route_counters["custody-to-crime"]
    assert counters.dead_lettered == 1
    assert counters.failed == 3
    assert runtime.connector_statuses()[0].counters.dead_lettered == 1

    downstream.healthy()
    await bus.replay_dead_letter(letters[0].id)
    await eventually(lambda: downstream.received)
    assert downstream.received[0].body["custody_record_number"] == "01CX/000007/26"
    assert await bus.dead_letters("route-custody-to-crime") == []


async def test_a_refusal_is_dead_lettered_at_once_with_the_reason(
    start_runtime: StartRuntime, bus: SqliteEngine, downstream: Downstream
) -> None:
    downstream.failing(422)
    runtime = await start_runtime(route(attempts=5))
    await bus.publish(custody_event(1), subject="custody.episode.opened")

    letters = await dead_letters_of(bus, "route-custody-to-crime")
    assert len(downstream.calls) == 1
    assert "DeliveryRefused" in letters[0].reason
    assert "422" in letters[0].reason
    assert runtime.route_counters["custody-to-crime"].dead_lettered == 1


async def test_circuit_breaker_opens_stops_calls_half_opens_and_closes(
    start_runtime: StartRuntime, bus: SqliteEngine, downstream: Downstream
) -> None:
    # The breaker's clock stands still until the test moves it, so however slow the machine,
    # the breaker is open for exactly as long as the test says.
    clock = BreakerClock()
    downstream.failing(503)
    breaker = "circuit_breaker: {failure_threshold: 2, window: 30, open_seconds: 0.3, half_open_probes: 1}"
    runtime = await start_runtime(route(attempts=50, breaker=breaker), breaker_clock=clock)
    await bus.publish(custody_event(1), subject="custody.episode.opened")

    await eventually(lambda: runtime.route_status("custody-to-crime").outputs[0].circuit == "open")
    assert len(downstream.calls) == 2
    assert runtime.route_status("custody-to-crime").state is RunState.CIRCUIT_OPEN

    # open: the message waits, asking the breaker again and again (two reads of its clock per
    # refusal), yet no call reaches the system and no attempt is used up
    looked = clock.reads
    await eventually(lambda: clock.reads >= looked + 6)
    assert len(downstream.calls) == 2
    assert runtime.route_counters["custody-to-crime"].failed == 2

    downstream.healthy()
    clock.advance(0.3)  # open_seconds pass: half-open, and the one probe goes through
    await eventually(lambda: downstream.received, timeout=5)
    assert len(downstream.calls) == 3
    await eventually(lambda: runtime.route_status("custody-to-crime").outputs[0].circuit == "closed")
    assert runtime.route_status("custody-to-crime").state is RunState.RUNNING
    assert runtime.route_counters["custody-to-crime"].failed == 2


async def test_a_half_open_probe_that_fails_opens_the_breaker_again(
    start_runtime: StartRuntime, bus: SqliteEngine, downstream: Downstream
) -> None:
    downstream.failing(503)
    breaker = "circuit_breaker: {failure_threshold: 1, window: 30, open_seconds: 0.5}"
    runtime = await start_runtime(route(attempts=50, breaker=breaker))
    await bus.publish(custody_event(1), subject="custody.episode.opened")

    await eventually(lambda: len(downstream.calls) >= 2, timeout=5)
    gap = downstream.calls[1] - downstream.calls[0]
    assert gap >= 0.45  # the second call was the half-open probe, after the open time
    assert runtime.route_status("custody-to-crime").outputs[0].circuit in {"open", "half-open"}


async def test_per_key_ordering_holds_while_a_message_is_retried(
    start_runtime: StartRuntime, bus: SqliteEngine, downstream: Downstream
) -> None:
    downstream.failing(503)
    await start_runtime(route(attempts=20, ordered=True))
    for number in range(1, 5):
        await bus.publish(custody_event(number, key="INC-1"), subject="custody.episode.opened")
    await bus.publish(custody_event(99, key="INC-2"), subject="custody.episode.opened")

    await eventually(lambda: len(downstream.calls) >= 2)
    downstream.healthy()
    await eventually(lambda: len(downstream.received) == 5)
    inc1 = [
        r.body["custody_record_number"]
        for r in downstream.received
        if r.body["custody_record_number"] != "01CX/000099/26"
    ]
    assert inc1 == [f"01CX/{n:06d}/26" for n in range(1, 5)]
