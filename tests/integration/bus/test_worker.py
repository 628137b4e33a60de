"""run_consumer: acks success, retries failure, dead-letters Reject, keeps slow work leased, stops cleanly."""

from __future__ import annotations

import asyncio
from collections import Counter

from _bus_helpers import event, spec

from polestar.bus.contract import Delivery
from polestar.bus.worker import Reject, run_consumer
from polestar.model.envelope import Envelope


async def test_worker_acks_success_retries_failure_and_dead_letters_a_reject(engine):
    consumer = await engine.subscribe(spec(max_attempts=5, ack_wait=5.0))
    for n in range(6):
        await engine.publish(event(n))
    calls: Counter[int] = Counter()
    handled: set[int] = set()
    stop = asyncio.Event()

    async def handle(envelope: Envelope) -> None:
        n = envelope.data["n"]
        calls[n] += 1
        if n == 3:
            raise Reject("not a custody record")
        if n == 4 and calls[n] < 3:
            raise ConnectionError("custody system unavailable")
        handled.add(n)
        if handled == {0, 1, 2, 4, 5}:
            stop.set()

    stats = await asyncio.wait_for(run_consumer(consumer, handle, stop_event=stop, concurrency=4), 20)
    assert handled == {0, 1, 2, 4, 5}
    assert calls[4] == 3
    assert stats.acked == 5
    assert stats.nacked == 2
    (dead,) = await engine.dead_letters("g")
    assert "not a custody record" in dead.reason
    assert calls[3] == 1


async def test_worker_heartbeat_keeps_a_slow_handler_lease(engine):
    consumer = await engine.subscribe(spec(ack_wait=1.0))
    rival = await engine.subscribe(spec(ack_wait=1.0))
    await engine.publish(event(1))
    stop = asyncio.Event()
    attempts: list[int] = []

    async def slow(delivery: Delivery) -> None:
        attempts.append(delivery.attempt)
        await asyncio.sleep(2.5)  # longer than ack_wait: only the heartbeat keeps it
        stop.set()

    worker = asyncio.create_task(run_consumer(consumer, delivery_handler=slow, stop_event=stop))
    for _ in range(50):
        if attempts:
            break
        await asyncio.sleep(0.05)
    assert await rival.fetch(1, timeout=2.0) == []
    await asyncio.wait_for(worker, 10)
    assert attempts == [1]
    assert await rival.fetch(1, timeout=1.5) == []


async def test_worker_stops_when_asked_and_lets_running_handlers_finish(engine):
    consumer = await engine.subscribe(spec())
    await engine.publish(event(1))
    stop = asyncio.Event()
    finished: list[int] = []

    async def handle(envelope: Envelope) -> None:
        stop.set()
        await asyncio.sleep(0.2)
        finished.append(envelope.data["n"])

    stats = await asyncio.wait_for(run_consumer(consumer, handle, stop_event=stop), 10)
    assert finished == [1]
    assert stats.acked == 1
