"""Contract: publishing is durable, idempotent, validated at the door, and readable back."""

from __future__ import annotations

import asyncio
import time

import pytest
from _bus_helpers import event

from polestar.bus.contract import BusEngine, RetentionPolicy
from polestar.errors import BusClosed, PublishRefused
from polestar.model.envelope import Envelope
from polestar.model.timeutil import utcnow


async def read_all(engine: BusEngine, **kwargs: object) -> list:
    return [m async for m in engine.read(**kwargs)]  # type: ignore[arg-type]


async def test_published_event_survives_a_restart_and_reads_back_in_order(make_engine):
    engine = await make_engine()
    sent = [event(n) for n in range(3)]
    acks = [await engine.publish(e) for e in sent]
    assert [a.sequence for a in acks] == sorted(a.sequence for a in acks)
    assert not any(a.duplicate for a in acks)
    await engine.close()

    reopened = await make_engine()
    stored = await read_all(reopened)
    assert [m.envelope for m in stored] == sent
    assert [m.sequence for m in stored] == [a.sequence for a in acks]
    assert all(m.subject == "custody.detainee.released" for m in stored)


async def test_repeated_idempotency_key_is_acknowledged_as_a_duplicate_and_stored_once(engine):
    first = event(1)
    original = await engine.publish(first)
    again = await engine.publish(first)
    assert again.duplicate
    assert again.sequence == original.sequence

    keyed = await engine.publish(event(2), idempotency_key="upload-42")
    other_body_same_key = await engine.publish(event(3), idempotency_key="upload-42")
    assert other_body_same_key.duplicate
    assert other_body_same_key.sequence == keyed.sequence

    stored = await read_all(engine)
    assert [m.envelope.data["n"] for m in stored] == [1, 2]


async def test_publish_many_acknowledges_each_in_order_and_spots_repeats(engine):
    batch = [(event(n), None) for n in range(5)]
    acks = await engine.publish_many([*batch, batch[0]])
    assert [a.duplicate for a in acks] == [False] * 5 + [True]
    assert acks[5].sequence == acks[0].sequence
    assert [a.sequence for a in acks[:5]] == sorted(a.sequence for a in acks[:5])


async def test_publish_on_an_explicit_subject_is_read_back_on_that_subject(engine):
    await engine.publish(event(1), subject="custody.station-7.released")
    (message,) = await read_all(engine)
    assert message.subject == "custody.station-7.released"


async def test_bad_input_is_refused_at_publish_and_nothing_is_half_written(make_engine):
    engine = await make_engine(RetentionPolicy(dedupe_window=60, max_message_bytes=2048))
    await engine.publish(event(0))
    before = await engine.stats()

    with pytest.raises(PublishRefused, match="subject"):
        await engine.publish(event(1), subject="custody.*.released")
    with pytest.raises(PublishRefused, match="subject"):
        await engine.publish(event(1), subject="has space")
    with pytest.raises(PublishRefused, match="bytes"):
        await engine.publish(event(2, padding="x" * 5000))
    with pytest.raises(PublishRefused):
        await engine.publish({"type": "custody.detainee.released"})  # type: ignore[arg-type]
    with pytest.raises(PublishRefused):
        await engine.publish_many([(event(3), None), (event(4, padding="x" * 5000), None)])

    after = await engine.stats()
    assert (after.messages, after.last_sequence) == (before.messages, before.last_sequence)
    assert [m.envelope.data["n"] for m in await read_all(engine)] == [0]


async def test_an_envelope_that_does_not_validate_is_refused_at_publish(engine):
    # model_construct() skips validation; what no consumer could parse must not be stored.
    forged = Envelope.model_construct(**{**event(5).model_dump(), "type": "Not A Type"})
    before = await engine.stats()
    with pytest.raises(PublishRefused):
        await engine.publish(forged, subject="custody.detainee.released")
    with pytest.raises(PublishRefused):
        await engine.publish_many([(event(6), None), (forged, "custody.detainee.released")])
    assert (await engine.stats()).messages == before.messages


async def test_read_filters_by_subject_sequence_time_and_limit(engine):
    acks = [await engine.publish(event(n), subject=f"custody.s{n % 2}.released") for n in range(6)]
    await asyncio.sleep(0.05)
    middle = utcnow()
    await asyncio.sleep(0.05)
    later = [await engine.publish(event(n), subject="custody.s0.released") for n in range(6, 8)]

    evens = await read_all(engine, subjects=["custody.s0.>"])
    assert [m.envelope.data["n"] for m in evens] == [0, 2, 4, 6, 7]
    from_third = await read_all(engine, from_sequence=acks[3].sequence, limit=2)
    assert [m.envelope.data["n"] for m in from_third] == [3, 4]
    since = await read_all(engine, from_time=middle)
    assert [m.sequence for m in since] == [a.sequence for a in later]


async def test_retention_keeps_at_most_max_messages(make_engine):
    engine = await make_engine(RetentionPolicy(dedupe_window=60, max_messages=5))
    for n in range(10):
        await engine.publish(event(n))
    deadline = time.monotonic() + 5
    while True:
        kept = [m.envelope.data["n"] for m in await read_all(engine)]
        if kept == [5, 6, 7, 8, 9] or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert kept == [5, 6, 7, 8, 9]
    assert (await engine.stats()).messages == 5


async def test_retention_drops_messages_older_than_max_age(make_engine):
    engine = await make_engine(RetentionPolicy(dedupe_window=0.5, max_age=1.0))
    await engine.publish(event(1))
    assert len(await read_all(engine)) == 1
    for _ in range(30):
        if not await read_all(engine):
            break
        await asyncio.sleep(0.2)
    assert await read_all(engine) == []


async def test_a_closed_engine_refuses_further_work(engine):
    await engine.close()
    with pytest.raises(BusClosed):
        await engine.publish(event(1))
    with pytest.raises(BusClosed):
        await engine.publish_many([(event(2), None)])
    with pytest.raises(BusClosed):
        await engine.stats()
    await engine.close()  # closing twice is harmless
