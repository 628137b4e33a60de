"""Contract: settling a batch at once (``ack_all``, ``forward``) keeps every guarantee of ``ack``."""

from __future__ import annotations

import pytest
from _bus_helpers import collect, event, numbers, spec

from polestar.bus.contract import BatchSettlement
from polestar.bus.worker import ack_all, forward
from polestar.errors import PublishRefused


def routed(n: int) -> tuple:
    return event(n, kind="custody.detainee.routed"), "routed.custody"


async def test_both_engines_settle_in_batches(engine):
    assert isinstance(engine, BatchSettlement)


async def test_ack_all_acknowledges_the_whole_batch_and_nothing_returns(engine):
    for n in range(20):
        await engine.publish(event(n))
    consumer = await engine.subscribe(spec(ack_wait=1.0))
    got = await collect(consumer, 20, batch=20)
    await ack_all(engine, got)
    assert await consumer.fetch(20, timeout=1.6) == []


async def test_ack_all_of_nothing_is_fine(engine):
    await ack_all(engine, [])


async def test_forward_publishes_the_outputs_and_settles_the_inputs(engine):
    for n in range(10):
        await engine.publish(event(n))
    router = await engine.subscribe(spec("router", subjects=("custody.>",), ack_wait=1.0))
    sink = await engine.subscribe(spec("sink", subjects=("routed.>",)))
    got = await collect(router, 10, batch=10)
    acks = await forward(engine, [routed(100 + d.message.envelope.data["n"]) for d in got], got)
    assert len(acks) == 10
    assert not any(a.duplicate for a in acks)
    out = await collect(sink, 10, batch=10)
    assert sorted(numbers(out)) == list(range(100, 110))
    await ack_all(engine, out)
    # The inputs were acknowledged: nothing comes back after their lease would have ended.
    assert await router.fetch(10, timeout=1.6) == []


async def test_a_refused_output_publishes_nothing_and_leaves_the_inputs_to_come_again(engine):
    await engine.publish(event(1))
    router = await engine.subscribe(spec("router", subjects=("custody.>",), ack_wait=0.5))
    sink = await engine.subscribe(spec("sink", subjects=("routed.>",)))
    got = await collect(router, 1)
    with pytest.raises(PublishRefused, match="invalid subject"):
        await forward(engine, [routed(2), (event(3), "not a subject")], got)
    assert await sink.fetch(5, timeout=0.5) == []
    again = await collect(router, 1, timeout=5)
    assert numbers(again) == [1]
    assert again[0].attempt == 2
    await ack_all(engine, again)


async def test_ordered_groups_release_the_next_of_a_key_after_a_batch_ack(engine):
    for n in range(4):
        await engine.publish(event(n, key="INC-1"))
    consumer = await engine.subscribe(spec(ordered_by_key=True))
    seen: list[int] = []
    for _ in range(4):
        got = await collect(consumer, 1, timeout=5)
        seen += numbers(got)
        await ack_all(engine, got)
    assert seen == [0, 1, 2, 3]
