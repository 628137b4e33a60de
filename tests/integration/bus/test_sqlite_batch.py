"""SQLite-only: batch settlement checks everything before it writes, and writes once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from _bus_helpers import collect, event, numbers, spec

from polestar.bus.config import SqliteBusConfig
from polestar.bus.sqlite import SqliteEngine
from polestar.errors import BusError


@pytest.fixture
async def engines(tmp_path: Path):
    first = SqliteEngine(SqliteBusConfig(path=tmp_path / "a.sqlite3", poll_interval=0.02))
    second = SqliteEngine(SqliteBusConfig(path=tmp_path / "b.sqlite3", poll_interval=0.02))
    await first.start()
    await second.start()
    yield first, second
    await first.close()
    await second.close()


async def test_a_delivery_of_another_engine_is_refused_before_anything_is_written(engines, tmp_path):
    ours, theirs = engines
    await ours.publish(event(1))
    await theirs.publish(event(2))
    mine = await collect(await ours.subscribe(spec("router", ack_wait=0.5)), 1)
    foreign = await collect(await theirs.subscribe(spec("router")), 1)
    with pytest.raises(BusError, match="not a delivery of this SQLite engine"):
        await ours.forward([(event(3), "routed.custody")], [*mine, *foreign])
    with pytest.raises(BusError, match="not a delivery of this SQLite engine"):
        await ours.ack_many(foreign)
    stored = sqlite3.connect(tmp_path / "a.sqlite3").execute("SELECT count(*) FROM messages").fetchone()
    assert stored == (1,)  # the output was not published
    # Our own delivery was left unsettled: it comes back when its lease ends.
    again = await collect(await ours.subscribe(spec("router", ack_wait=0.5)), 1, timeout=5)
    assert numbers(again) == [1]
    assert again[0].attempt == 2


async def test_forward_settles_a_delivery_once_even_if_it_is_acked_again(engines):
    bus, _ = engines
    await bus.publish(event(1))
    router = await bus.subscribe(spec("router", subjects=("custody.>",), ack_wait=0.5))
    got = await collect(router, 1)
    await bus.forward([(event(2), "routed.custody")], got)
    await got[0].ack()  # a second settlement is ignored, as for ack
    await bus.ack_many(got)
    assert await router.fetch(1, timeout=1.0) == []
    sink = await bus.subscribe(spec("sink", subjects=("routed.>",)))
    assert numbers(await collect(sink, 1)) == [2]


async def test_an_input_whose_lease_was_taken_over_is_settled_by_its_new_holder_only(engines):
    bus, _ = engines
    await bus.publish(event(1))
    slow = await bus.subscribe(spec("router", subjects=("custody.>",), ack_wait=0.3))
    fast = await bus.subscribe(spec("router", subjects=("custody.>",), ack_wait=0.3))
    late = await collect(slow, 1)
    taken = await collect(fast, 1, timeout=5)  # the slow member's lease ran out
    assert taken[0].attempt == 2
    # The late forward still publishes (at least once) but settles nothing of the new lease.
    await bus.forward([(event(2), "routed.custody")], late)
    await bus.ack_many(taken)
    assert await fast.fetch(1, timeout=1.0) == []
