"""The dispatch feed on both bus engines: live fan-out, resume by Last-Event-ID, one consumer held."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest

from polestar.bus.config import JetStreamBusConfig, SqliteBusConfig
from polestar.bus.contract import BusEngine, BusMessage
from polestar.bus.jetstream import JetStreamEngine
from polestar.bus.sqlite import SqliteEngine
from polestar.devices.config import DispatchConfig
from polestar.devices.dispatch import DispatchFeed
from polestar.devices.tail import FETCH_WAIT
from polestar.errors import BusError
from polestar.model import Envelope

CONFIG = DispatchConfig(poll_seconds=0.05, heartbeat_seconds=5)


@contextlib.asynccontextmanager
async def started(kind: str, tmp_path: Path, nats_url: str, unique: str) -> AsyncIterator[BusEngine]:
    """A started engine of ``kind``, its streams removed afterwards."""
    bus: BusEngine
    if kind == "sqlite":
        bus = SqliteEngine(SqliteBusConfig(path=Path("bus.sqlite3"), poll_interval=0.02), data_dir=tmp_path)
    else:
        config = JetStreamBusConfig(
            servers=(nats_url,), stream_prefix=unique.upper(), subject_prefix=unique.lower()
        )
        bus = JetStreamEngine(config)
    await bus.start()
    try:
        yield bus
    finally:
        if isinstance(bus, JetStreamEngine):
            with contextlib.suppress(BusError):
                await bus.destroy()
        await bus.close()


@pytest.fixture(params=["sqlite", pytest.param("jetstream", marks=pytest.mark.nats)])
async def engine(
    request: pytest.FixtureRequest, tmp_path: Path, nats_url: str, unique: str
) -> AsyncIterator[BusEngine]:
    """A started engine of each kind."""
    async with started(request.param, tmp_path, nats_url, unique) as bus:
        yield bus


@pytest.fixture
async def jetstream(tmp_path: Path, nats_url: str, unique: str) -> AsyncIterator[JetStreamEngine]:
    """A started JetStream engine."""
    async with started("jetstream", tmp_path, nats_url, unique) as bus:
        assert isinstance(bus, JetStreamEngine)
        yield bus


@pytest.fixture
async def feed(engine: BusEngine) -> AsyncIterator[DispatchFeed]:
    """The feed, tailing ``engine`` from its current end."""
    running = DispatchFeed(CONFIG, lambda: engine)
    await running.start()
    try:
        async with asyncio.timeout(10):
            while running.position is None:  # noqa: ASYNC110 - the feed has no event for this
                await asyncio.sleep(0.02)
        yield running
    finally:
        await running.close()


async def dispatch(engine: BusEngine, incident: str, *units: str) -> int:
    """Publish an incident assigned to ``units``; its bus sequence."""
    envelope = Envelope(
        source="/connectors/cad",
        type="incident.unit.assigned",
        subject=incident,
        data={"reference": incident, "assigned_units": list(units), "status": "assigned"},
    )
    return (await engine.publish(envelope)).sequence


async def take(stream: AsyncIterator[BusMessage | None], count: int) -> list[str]:
    """The incidents of the next ``count`` dispatches (keep-alives skipped)."""
    taken: list[str] = []
    async with asyncio.timeout(10):
        async for message in stream:
            if message is not None:
                taken.append(str(message.envelope.subject))
            if len(taken) == count:
                return taken
    raise AssertionError(f"the stream ended after {taken}")


async def test_a_unit_gets_its_dispatches_live_and_not_another_units(
    engine: BusEngine, feed: DispatchFeed
) -> None:
    stream = feed.follow("cx21", None)
    first = asyncio.ensure_future(take(stream, 2))
    await asyncio.sleep(0.2)  # following before anything is sent
    await dispatch(engine, "INC-1", "CX21")
    await dispatch(engine, "INC-2", "CX22")
    await dispatch(engine, "INC-3", "CX22", "CX21")
    assert await first == ["INC-1", "INC-3"]
    await stream.aclose()


async def test_a_stream_resumes_after_its_last_event_id_with_what_it_missed_then_live(
    engine: BusEngine, feed: DispatchFeed
) -> None:
    seen = await dispatch(engine, "INC-10", "CX21")
    await dispatch(engine, "INC-11", "CX21")  # sent while the device was away
    await dispatch(engine, "INC-12", "CX30")
    await dispatch(engine, "INC-13", "CX21")
    stream = feed.follow("CX21", seen)
    assert await take(stream, 2) == ["INC-11", "INC-13"]
    later = asyncio.ensure_future(take(stream, 1))
    await asyncio.sleep(0.1)
    await dispatch(engine, "INC-14", "CX21")
    assert await later == ["INC-14"]
    await stream.aclose()


async def test_an_idle_feed_hands_a_dispatch_over_at_once_and_on_jetstream_holds_one_consumer(
    engine: BusEngine, nats_url: str
) -> None:
    monitor = await nats.connect(nats_url) if isinstance(engine, JetStreamEngine) else None
    created: list[str] = []

    async def noted(msg: nats.aio.msg.Msg) -> None:
        created.append(msg.subject)

    if monitor is not None and isinstance(engine, JetStreamEngine):
        # Only this test's stream: other hubs on the same server create consumers of their own.
        await monitor.subscribe(f"$JS.API.CONSUMER.CREATE.{engine.names.events_stream}.>", cb=noted)
        await monitor.flush()
    running = DispatchFeed(CONFIG, lambda: engine)
    await running.start()
    try:
        stream = running.follow("CX21", None)
        first = asyncio.ensure_future(take(stream, 1))
        await asyncio.sleep(2 * FETCH_WAIT + 0.5)  # quiet through more than two fetches' waits
        sent = asyncio.get_running_loop().time()
        await dispatch(engine, "INC-20", "CX21")
        assert await first == ["INC-20"]
        # Handed over as it is stored, not when the tail's pending fetch would have ended.
        assert asyncio.get_running_loop().time() - sent < FETCH_WAIT / 2
        await stream.aclose()
    finally:
        await running.close()
        if monitor is not None:
            await monitor.close()
    if isinstance(engine, JetStreamEngine):
        assert len(created) == 1, created  # the tail's one consumer, held throughout


@pytest.mark.nats
async def test_on_jetstream_a_consumer_the_server_lost_is_recreated_where_it_stopped(
    jetstream: JetStreamEngine,
) -> None:
    engine = jetstream
    # The engine's tail, as tail_for makes it, but checking on its consumer after 0.1 s of quiet, not 30.
    tail = engine.tail(CONFIG.subjects, check_every=0.1)
    try:
        first = await dispatch(engine, "INC-30", "CX21")
        batch = await tail.fetch(first - 1, wait=0.2)
        assert [m.envelope.subject for m in batch.messages] == ["INC-30"]
        assert tail.created == 1
        js = tail.context()
        stream = engine.names.events_stream
        for info in await js.consumers_info(stream):
            await js.delete_consumer(stream, info.name)  # as a restarted server would have
        for _ in range(3):
            await tail.fetch(batch.position, wait=0.2)  # quiet fetches notice the consumer is gone
        await dispatch(engine, "INC-31", "CX21")
        again = await tail.fetch(batch.position, wait=0.2)
        assert [m.envelope.subject for m in again.messages] == ["INC-31"]
        assert tail.created == 2
    finally:
        await tail.close()
