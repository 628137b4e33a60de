"""Dead letters, attempt history and per-key ordering on the JetStream engine."""

from __future__ import annotations

import asyncio
import contextlib

import nats
import nats.js.errors
import pytest

from polestar.bus.config import JetStreamBusConfig
from polestar.bus.contract import BackoffPolicy, ConsumerSpec
from polestar.bus.jetstream import JetStreamEngine
from polestar.errors import DeadLetterNotFound
from polestar.model.envelope import Envelope

pytestmark = pytest.mark.nats

FAST = BackoffPolicy(initial=0.05, maximum=0.1, jitter=0)


def event(n: int = 0, key: str | None = None) -> Envelope:
    return Envelope(
        source="/tests/jetstream",
        type="incident.unit.assigned",
        subject=f"INC-{n}",
        partitionkey=key,
        data={"n": n},
    )


@pytest.fixture
async def engine(nats_url: str, unique: str):
    eng = JetStreamEngine(
        JetStreamBusConfig(
            servers=(nats_url,), stream_prefix=unique.upper(), subject_prefix=unique, partitions=4
        )
    )
    await eng.start()
    try:
        yield eng
    finally:
        await eng.close()
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        names = eng.names
        for stream in (names.events_stream, names.dead_letter_stream, f"KV_{names.history_bucket}"):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(stream)
        await nc.close()


async def test_exhausted_message_is_dead_lettered_with_its_history(engine):
    ack = await engine.publish(event(7))
    consumer = await engine.subscribe(ConsumerSpec(group="crime", max_attempts=3, ack_wait=5, backoff=FAST))
    for attempt in (1, 2, 3):
        [d] = await consumer.fetch(timeout=2)
        assert d.attempt == attempt
        await d.nack(f"crime system said no #{attempt}")
    assert await consumer.fetch(timeout=0.3) == []
    [dead] = await engine.dead_letters("crime")
    assert dead.group == "crime"
    assert dead.reason == "crime system said no #3"
    assert [a.reason for a in dead.attempts] == [f"crime system said no #{n}" for n in (1, 2, 3)]
    assert dead.message.sequence == ack.sequence
    assert dead.message.envelope.data == {"n": 7}
    assert (await engine.dead_letter(dead.id)).message.envelope.id == dead.message.envelope.id
    stats = await engine.stats()
    assert stats.dead_letters == 1
    assert [(g.group, g.dead_letters) for g in stats.groups] == [("crime", 1)]


async def test_timed_out_attempts_are_dead_lettered_on_the_next_fetch(engine):
    await engine.publish(event(1))
    consumer = await engine.subscribe(ConsumerSpec(group="slow", max_attempts=2, ack_wait=0.5))
    [first] = await consumer.fetch(timeout=2)
    await first.nack("failed once", delay=0)
    [second] = await consumer.fetch(timeout=2)
    assert second.attempt == 2  # and then the member "crashes": never settled
    assert await consumer.fetch(timeout=1.5) == []
    [dead] = await engine.dead_letters("slow")
    assert [a.attempt for a in dead.attempts] == [1, 2]
    assert dead.attempts[0].reason == "failed once"
    assert "ack_wait" in dead.attempts[1].reason


async def test_reject_dead_letters_at_once_and_replay_returns_it_to_that_group_only(engine):
    await engine.publish(event(1))
    crime = await engine.subscribe(ConsumerSpec(group="crime", max_attempts=5))
    audit = await engine.subscribe(ConsumerSpec(group="audit"))
    [d] = await crime.fetch(timeout=2)
    await d.reject("unmappable offence code")
    [a] = await audit.fetch(timeout=2)
    await a.ack()
    [dead] = await engine.dead_letters()
    assert dead.attempts[-1].reason == "unmappable offence code"

    ack = await engine.replay_dead_letter(dead.id)
    assert not ack.duplicate
    assert await engine.dead_letters() == []
    [again] = await crime.fetch(timeout=2)
    assert again.attempt == 1
    assert again.message.envelope.id == dead.message.envelope.id
    await again.ack()
    assert await audit.fetch(timeout=0.5) == []
    assert len([m async for m in engine.read()]) == 1  # the replayed copy is not a new event


async def test_unknown_dead_letters_are_not_found(engine):
    for bad in ("42", "nope", "0"):
        with pytest.raises(DeadLetterNotFound):
            await engine.dead_letter(bad)
        with pytest.raises(DeadLetterNotFound):
            await engine.discard_dead_letter(bad)
        with pytest.raises(DeadLetterNotFound):
            await engine.replay_dead_letter(bad)


async def test_discard_removes_a_dead_letter(engine):
    await engine.publish(event(1))
    consumer = await engine.subscribe(ConsumerSpec(group="g"))
    [d] = await consumer.fetch(timeout=2)
    await d.reject("poison")
    [dead] = await engine.dead_letters("g")
    await engine.discard_dead_letter(dead.id)
    assert await engine.dead_letters("g") == []
    assert (await engine.stats()).dead_letters == 0


async def test_a_key_is_never_in_flight_twice_and_arrives_in_order(engine):
    keys = [f"INC-{k}" for k in range(6)]
    await engine.publish_many([(event(i, key=keys[i % 6]), None) for i in range(60)])
    spec = ConsumerSpec(group="cad", ordered_by_key=True, ack_wait=5, backoff=FAST)
    members = [await engine.subscribe(spec) for _ in range(3)]
    in_flight: set[str] = set()
    seen: dict[str, list[int]] = {k: [] for k in keys}
    failed_once: set[int] = set()

    async def work(member) -> None:
        idle = 0
        while idle < 3:
            batch = await member.fetch(4, timeout=0.3)
            idle = 0 if batch else idle + 1
            for d in batch:
                key = d.message.key
                assert key not in in_flight
                in_flight.add(key)
                await asyncio.sleep(0.001)
                n = d.message.envelope.data["n"]
                in_flight.discard(key)
                if n % 7 == 0 and n not in failed_once:
                    failed_once.add(n)
                    await d.nack("try again")
                    continue
                seen[key].append(n)
                await d.ack()

    await asyncio.gather(*(work(m) for m in members))
    for i, key in enumerate(keys):
        assert seen[key] == list(range(i, 60, 6))


async def test_ordered_group_uses_one_durable_per_partition(engine, nats_url):
    await engine.subscribe(ConsumerSpec(group="cad", ordered_by_key=True))
    nc = await nats.connect(nats_url)
    try:
        infos = await nc.jetstream().consumers_info(engine.names.events_stream)
    finally:
        await nc.close()
    assert sorted(i.name for i in infos) == [f"cad_p{p}" for p in range(4)]
    assert {i.config.max_ack_pending for i in infos} == {1}
