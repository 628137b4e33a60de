"""Contract: with ordered_by_key a key is never in flight twice, and arrives in publish order."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

from _bus_helpers import BackoffPolicy, collect, event, spec

from polestar.bus.worker import run_consumer
from polestar.model.envelope import Envelope

KEYS = 20
PER_KEY = 50


async def test_per_key_order_holds_under_concurrency_and_random_failures(engine):
    group = spec(
        ordered_by_key=True,
        ack_wait=10.0,
        max_attempts=100,
        backoff=BackoffPolicy(initial=0.01, multiplier=1.0, maximum=0.01, jitter=0.0),
    )
    members = [await engine.subscribe(group) for _ in range(3)]
    await engine.publish_many([(event(n, key=f"INC-{k}"), None) for n in range(PER_KEY) for k in range(KEYS)])
    rng = random.Random(7)
    done: dict[str, list[int]] = defaultdict(list)
    in_flight: set[str] = set()
    overlap = 0
    violations: list[str] = []
    stop = asyncio.Event()

    async def handle(envelope: Envelope) -> None:
        nonlocal overlap
        key = envelope.partitionkey
        assert key is not None
        if key in in_flight:
            violations.append(key)
        in_flight.add(key)
        overlap = max(overlap, len(in_flight))
        try:
            await asyncio.sleep(rng.random() * 0.002)
            if rng.random() < 0.1:
                raise RuntimeError("custody system timed out")
            done[key].append(envelope.data["n"])
            if sum(len(v) for v in done.values()) == KEYS * PER_KEY:
                stop.set()
        finally:
            in_flight.discard(key)

    workers = [run_consumer(m, handle, stop_event=stop, concurrency=8, fetch_timeout=0.2) for m in members]
    await asyncio.wait_for(asyncio.gather(*workers), timeout=120)

    assert violations == []
    assert overlap > 1  # different keys did run side by side
    for k in range(KEYS):
        assert done[f"INC-{k}"] == list(range(PER_KEY))


async def test_a_dead_lettered_message_unblocks_the_next_of_its_key(engine):
    consumer = await engine.subscribe(spec(ordered_by_key=True, max_attempts=2, ack_wait=5.0))
    for n in range(3):
        await engine.publish(event(n, key="INC-1"))
    (first,) = await collect(consumer, 3, timeout=2)  # only the head of the key is handed out
    assert first.message.envelope.data["n"] == 0
    await first.reject("corrupt incident")
    (second,) = await collect(consumer, 3, timeout=2)
    assert second.message.envelope.data["n"] == 1
    await second.ack()
    (third,) = await collect(consumer, 3, timeout=2)
    assert third.message.envelope.data["n"] == 2
    await third.ack()
