from __future__ import annotations

import asyncio

import pytest

from polestar.errors import CircuitOpen, DeliveryFailed, DeliveryRefused
from polestar.routes.breaker import BreakerState, CircuitBreaker
from polestar.routes.config import CircuitBreakerConfig


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _fail() -> None:
    raise DeliveryFailed("503")


async def _ok() -> str:
    return "delivered"


async def _refuse() -> None:
    raise DeliveryRefused("422")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def changes() -> list[BreakerState]:
    return []


@pytest.fixture
def breaker(clock: Clock, changes: list[BreakerState]) -> CircuitBreaker:
    config = CircuitBreakerConfig(failure_threshold=3, window=10, open_seconds=30, half_open_probes=1)
    return CircuitBreaker(config, name="crime", clock=clock, on_change=changes.append)


async def _failures(breaker: CircuitBreaker, count: int) -> None:
    for _ in range(count):
        with pytest.raises(DeliveryFailed):
            await breaker.call(_fail)


async def test_opens_after_the_threshold_of_failures_within_the_window(breaker, clock) -> None:
    await _failures(breaker, 2)
    assert breaker.state is BreakerState.CLOSED
    await _failures(breaker, 1)
    assert breaker.state is BreakerState.OPEN

    clock.now += 12
    with pytest.raises(CircuitOpen) as refused:
        await breaker.call(_ok)
    assert refused.value.retry_after == pytest.approx(18)


async def test_failures_outside_the_window_do_not_count(breaker, clock) -> None:
    await _failures(breaker, 2)
    clock.now += 11
    await _failures(breaker, 2)
    assert breaker.state is BreakerState.CLOSED


async def test_half_opens_after_the_open_time_and_closes_on_a_successful_probe(
    breaker, clock, changes
) -> None:
    await _failures(breaker, 3)
    clock.now += 30
    assert breaker.state is BreakerState.HALF_OPEN
    assert await breaker.call(_ok) == "delivered"
    assert breaker.state is BreakerState.CLOSED
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


async def test_a_failed_probe_opens_it_again_for_the_full_time(breaker, clock) -> None:
    await _failures(breaker, 3)
    clock.now += 30
    await _failures(breaker, 1)
    assert breaker.state is BreakerState.OPEN
    assert breaker.remaining_open() == pytest.approx(30)


async def test_only_the_allowed_number_of_probes_go_through_at_once(breaker, clock) -> None:
    await _failures(breaker, 3)
    clock.now += 30
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "ok"

    probe = asyncio.create_task(breaker.call(slow))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen, match="probes are in use"):
        await breaker.call(_ok)
    release.set()
    assert await probe == "ok"


async def test_a_refusal_is_an_answer_so_it_does_not_count_as_a_failure(breaker) -> None:
    for _ in range(5):
        with pytest.raises(DeliveryRefused):
            await breaker.call(_refuse)
    assert breaker.state is BreakerState.CLOSED
