"""Contract: a tail follows some subjects in sequence order, from any position, consuming nothing."""

from __future__ import annotations

import asyncio
import time

from _bus_helpers import collect, event, spec

from polestar.bus.contract import BusEngine


async def publish_mixed(engine: BusEngine) -> list[int]:
    """Custody events 0-2 with incident events between them; the custody sequences."""
    custody: list[int] = []
    for n in range(3):
        custody.append((await engine.publish(event(n))).sequence)
        await engine.publish(event(10 + n, kind="incident.unit.assigned"))
    return custody


async def test_a_tail_hands_out_its_subjects_in_order_from_any_position_and_consumes_nothing(engine):
    group = await engine.subscribe(spec("g", subjects=("custody.>",)))
    custody = await publish_mixed(engine)
    tail = engine.tail(["custody.>"])
    try:
        batch = await tail.fetch(0, wait=2.0)
        assert [m.envelope.data["n"] for m in batch.messages] == [0, 1, 2]
        assert [m.sequence for m in batch.messages] == custody
        assert all(m.subject == "custody.detainee.released" for m in batch.messages)
        assert batch.position >= custody[-1]

        later = await tail.fetch(custody[0], limit=1, wait=2.0)  # from another position, one at a time
        assert [m.sequence for m in later.messages] == [custody[1]]
        assert later.position == custody[1]
    finally:
        await tail.close()
    # The group still gets every message: the tail took none of them.
    assert len(await collect(group, 3)) == 3


async def test_an_empty_fetch_waits_and_a_new_message_is_handed_over_at_once(engine):
    tail = engine.tail(["custody.>"])
    try:
        started = time.monotonic()
        empty = await tail.fetch(0, wait=0.3)
        assert (empty.messages, empty.position) == ((), 0)
        assert time.monotonic() - started >= 0.25

        waiting = asyncio.ensure_future(tail.fetch(0, wait=10.0))
        await asyncio.sleep(0.2)
        sent = await engine.publish(event(7))
        started = time.monotonic()
        batch = await asyncio.wait_for(waiting, 5.0)
        assert [m.sequence for m in batch.messages] == [sent.sequence]
        assert time.monotonic() - started < 2.0  # woken by the publish, not by the end of the wait
    finally:
        await tail.close()
