"""JetStream-specific behaviour of the cluster engine, against the real NATS server."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import nats
import nats.js.errors
import pytest

from polestar.bus.config import JetStreamBusConfig
from polestar.bus.contract import ConsumerSpec, RetentionPolicy
from polestar.bus.jetstream import JetStreamEngine
from polestar.errors import (
    BusClosed,
    BusUnavailable,
    NoResponders,
    PublishRefused,
    RequestTimeout,
)
from polestar.model.envelope import Envelope
from polestar.model.timeutil import utcnow

pytestmark = pytest.mark.nats


def event(n: int = 0, key: str | None = None, **data: object) -> Envelope:
    return Envelope(
        source="/tests/jetstream",
        type="custody.detainee.released",
        subject=f"CUS-{n}",
        partitionkey=key,
        data={"n": n, **data},
    )


async def delete_streams(nats_url: str, engine: JetStreamEngine) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    names = engine.names
    for stream in (names.events_stream, names.dead_letter_stream, f"KV_{names.history_bucket}"):
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(stream)
    await nc.close()


@pytest.fixture
def config(nats_url: str, unique: str) -> JetStreamBusConfig:
    return JetStreamBusConfig(
        servers=(nats_url,),
        stream_prefix=unique.upper(),
        subject_prefix=unique,
        partitions=4,
        retention=RetentionPolicy(dedupe_window=60),
    )


@pytest.fixture
async def engine(config: JetStreamBusConfig, nats_url: str):
    eng = JetStreamEngine(config)
    await eng.start()
    try:
        yield eng
    finally:
        await eng.close()
        await delete_streams(nats_url, eng)


async def test_start_creates_durable_streams_from_configuration(engine, nats_url):
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        events = await js.stream_info(engine.names.events_stream)
        dead = await js.stream_info(engine.names.dead_letter_stream)
    finally:
        await nc.close()
    assert events.config.storage == "file"
    assert events.config.duplicate_window == 60
    assert events.config.max_age == engine.config.retention.max_age
    assert events.config.subjects == [f"{engine.config.subject_prefix}.ev.>"]
    assert dead.config.max_age == engine.config.retention.dead_letter_max_age


async def test_publish_is_acknowledged_and_repeats_are_deduplicated(engine):
    env = event(1)
    first = await engine.publish(env)
    again = await engine.publish(env)
    other = await engine.publish(event(2), idempotency_key="custom-key")
    assert not first.duplicate
    assert again.duplicate
    assert again.sequence == first.sequence
    assert other.sequence == first.sequence + 1
    assert (await engine.stats()).messages == 2


async def test_refused_publishes_send_nothing(engine):
    with pytest.raises(PublishRefused, match="invalid subject"):
        await engine.publish(event(), subject="custody.*")
    with pytest.raises(PublishRefused, match="Envelope"):
        await engine.publish({"not": "an envelope"})  # type: ignore[arg-type]
    with pytest.raises(PublishRefused, match="over the bus limit"):
        await engine.publish(event(pad="x" * (engine.config.retention.max_message_bytes + 1)))
    with pytest.raises(PublishRefused):
        await engine.publish_many([(event(1), "ok.subject"), (event(2), "bad subject")])
    assert (await engine.stats()).messages == 0


async def test_publish_many_pipelines_and_returns_in_order(engine):
    acks = await engine.publish_many([(event(i), f"custody.n{i % 3}") for i in range(300)])
    assert [a.sequence for a in acks] == list(range(1, 301))
    messages = [m async for m in engine.read(subjects=("custody.n1",))]
    assert [m.envelope.data["n"] for m in messages] == list(range(1, 300, 3))
    assert all(m.subject == "custody.n1" for m in messages)


async def test_competing_members_share_one_durable(engine):
    await engine.publish_many([(event(i), None) for i in range(40)])
    spec = ConsumerSpec(group="sink", ack_wait=5)
    a, b = await engine.subscribe(spec), await engine.subscribe(spec)
    seen: list[int] = []
    for _ in range(20):
        for member in (a, b):
            for d in await member.fetch(5, timeout=0.2):
                seen.append(d.message.envelope.data["n"])
                await d.ack()
        if len(seen) == 40:
            break
    assert sorted(seen) == list(range(40))


async def test_several_filters_on_one_group_see_only_their_subjects(engine):
    await engine.publish(event(1), subject="custody.a")
    await engine.publish(event(2), subject="incident.b")
    await engine.publish(event(3), subject="other.c")
    consumer = await engine.subscribe(ConsumerSpec(group="two", subjects=("custody.>", "incident.*")))
    got = []
    while batch := await consumer.fetch(10, timeout=0.3):
        for d in batch:
            got.append(d.message.subject)
            await d.ack()
    assert got == ["custody.a", "incident.b"]


async def test_nack_redelivers_after_the_delay(engine):
    await engine.publish(event(1))
    consumer = await engine.subscribe(ConsumerSpec(group="g", ack_wait=5))
    [first] = await consumer.fetch(timeout=1)
    await first.nack("downstream busy", delay=0.3)
    assert await consumer.fetch(timeout=0.1) == []
    [second] = await consumer.fetch(timeout=2)
    assert second.attempt == 2
    assert second.message.sequence == first.message.sequence
    await second.ack()


async def test_unsettled_delivery_comes_back_after_ack_wait(engine):
    await engine.publish(event(1))
    consumer = await engine.subscribe(ConsumerSpec(group="g", ack_wait=1))
    [first] = await consumer.fetch(timeout=1)
    await asyncio.sleep(0.5)
    await first.in_progress()
    assert await consumer.fetch(timeout=0.7) == []
    [again] = await consumer.fetch(timeout=2)
    assert again.attempt == 2
    await again.ack()


async def test_request_reply_and_its_failures(engine):
    async def answer(req: Envelope) -> Envelope:
        return req.caused(source="/tests/pnc", type="pnc.person.found", data={"ok": True})

    responder = await engine.serve("pnc.person", answer)
    reply = await engine.request(event(1), subject="pnc.person", timeout=2)
    assert reply.type == "pnc.person.found"
    await responder.close()
    with pytest.raises(NoResponders):
        await engine.request(event(2), subject="pnc.person", timeout=1)

    async def slow(req: Envelope) -> Envelope:
        await asyncio.sleep(1)
        return req

    slow_responder = await engine.serve("pnc.slow", slow)
    with pytest.raises(RequestTimeout):
        await engine.request(event(3), subject="pnc.slow", timeout=0.2)
    await slow_responder.close()


async def test_replay_moves_a_group_back(engine):
    acks = await engine.publish_many([(event(i), None) for i in range(5)])
    consumer = await engine.subscribe(ConsumerSpec(group="g"))
    for d in await consumer.fetch(10, timeout=1):
        await d.ack()
    await engine.replay("g", from_sequence=acks[3].sequence)
    again = await consumer.fetch(10, timeout=1)
    assert [d.message.sequence for d in again] == [acks[3].sequence, acks[4].sequence]
    for d in again:
        await d.ack()
    await engine.replay("g", from_time=utcnow() - timedelta(minutes=5))
    assert len(await consumer.fetch(10, timeout=1)) == 5


async def test_closed_engine_refuses_work(config, nats_url):
    eng = JetStreamEngine(config)
    await eng.start()
    await eng.close()
    try:
        with pytest.raises(BusClosed):
            await eng.publish(event())
        with pytest.raises(BusClosed):
            await eng.subscribe(ConsumerSpec(group="g"))
    finally:
        await delete_streams(nats_url, eng)


async def test_unreachable_server_is_bus_unavailable(unique):
    config = JetStreamBusConfig(
        servers=("nats://127.0.0.1:1",), stream_prefix=unique.upper(), connect_timeout=0.5
    )
    with pytest.raises(BusUnavailable):
        await JetStreamEngine(config).start()
