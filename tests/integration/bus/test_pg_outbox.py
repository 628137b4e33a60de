"""The PostgreSQL transactional outbox and idempotent consumer, relayed to real JetStream."""

from __future__ import annotations

import asyncio
import contextlib

import nats
import nats.js.errors
import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.schema import CreateTable

from polestar.bus.config import JetStreamBusConfig
from polestar.bus.jetstream import JetStreamEngine
from polestar.bus.pg_outbox import Outbox, OutboxRelay, OutboxTables, ProcessedMessages, execute
from polestar.errors import PublishRefused
from polestar.model.envelope import Envelope

pytestmark = [pytest.mark.postgres, pytest.mark.nats]


def released(n: int, key: str = "CUS-1") -> Envelope:
    return Envelope(
        source="/tests/custody",
        type="custody.detainee.released",
        subject=key,
        partitionkey=key,
        data={"n": n},
    )


@pytest.fixture
def db(postgres_url: str, postgres_schema: str) -> str:
    return postgres_url


def transaction(db: str):
    """One transaction: commits when the block ends, rolls back if it raises."""
    return _Transaction(db)


class _Transaction:
    def __init__(self, db: str) -> None:
        self._db = db

    async def __aenter__(self) -> psycopg.AsyncConnection:
        self._conn = await psycopg.AsyncConnection.connect(self._db)
        return await self._conn.__aenter__()

    async def __aexit__(self, *exc) -> None:
        await self._conn.__aexit__(*exc)


@pytest.fixture
async def tables(db, postgres_schema: str) -> OutboxTables:
    tables = OutboxTables.define(schema=postgres_schema)
    async with transaction(db) as conn:
        await tables.create(conn)
    return tables


@pytest.fixture
async def custody_records(db, tables: OutboxTables) -> Table:
    table = Table(
        "custody_record",
        MetaData(schema=tables.outbox.schema),
        Column("id", Integer, primary_key=True),
        Column("status", String(20)),
    )
    async with transaction(db) as conn:
        await execute(conn, CreateTable(table))
    return table


@pytest.fixture
async def bus(nats_url: str, unique: str):
    engine = JetStreamEngine(
        JetStreamBusConfig(servers=(nats_url,), stream_prefix=unique.upper(), subject_prefix=unique)
    )
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        names = engine.names
        for stream in (names.events_stream, names.dead_letter_stream, f"KV_{names.history_bucket}"):
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_stream(stream)
        await nc.close()


async def published(bus: JetStreamEngine) -> list[int]:
    return [m.envelope.data["n"] async for m in bus.read()]


async def test_only_committed_events_are_relayed_in_commit_order(db, tables, custody_records, bus):
    outbox = Outbox(tables)
    for n in range(3):
        async with transaction(db) as conn:
            await execute(conn, custody_records.insert().values(id=n, status="released"))
            await outbox.stage(conn, released(n))
    with contextlib.suppress(RuntimeError):
        async with transaction(db) as conn:
            await execute(conn, custody_records.insert().values(id=99, status="released"))
            await outbox.stage(conn, released(99))
            raise RuntimeError("the custody write failed")

    relay = OutboxRelay(db, bus, outbox)
    assert await relay.relay_once() == 3
    assert await relay.relay_once() == 0
    assert await published(bus) == [0, 1, 2]
    async with transaction(db) as conn:
        assert await outbox.pending(conn) == 0
        cursor = await execute(conn, select(tables.outbox.c.sequence).order_by(tables.outbox.c.id))
        assert [row[0] for row in await cursor.fetchall()] == [1, 2, 3]


async def test_relay_that_died_before_marking_does_not_duplicate(db, tables, bus):
    outbox = Outbox(tables)
    events = [released(n) for n in range(3)]
    async with transaction(db) as conn:
        for e in events:
            await outbox.stage(conn, e)
    # A relay published these, then died before its transaction committed.
    await bus.publish_many([(e, None) for e in events])
    assert await OutboxRelay(db, bus, outbox).relay_once() == 3
    assert await published(bus) == [0, 1, 2]


async def test_several_relays_publish_each_row_once_and_keep_key_order(db, tables, bus):
    outbox = Outbox(tables)
    async with transaction(db) as conn:
        for n in range(200):
            await outbox.stage(conn, released(n, key=f"CUS-{n % 5}"))
    relays = [OutboxRelay(db, bus, outbox, batch_size=17, lanes=3) for _ in range(3)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    for _ in range(100):
        async with transaction(db) as conn:
            if await outbox.pending(conn) == 0:
                break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)
    messages = [m async for m in bus.read()]
    assert sorted(m.envelope.data["n"] for m in messages) == list(range(200))
    for k in range(5):
        of_key = [m.envelope.data["n"] for m in messages if m.key == f"CUS-{k}"]
        assert of_key == list(range(k, 200, 5))


async def test_outbox_refuses_what_the_bus_would_refuse(db, tables):
    outbox = Outbox(tables, max_message_bytes=200)
    async with transaction(db) as conn:
        with pytest.raises(PublishRefused):
            await outbox.stage(conn, released(1), subject="bad subject")
        with pytest.raises(PublishRefused):
            await outbox.stage(conn, released(1).model_copy(update={"data": {"pad": "x" * 500}}))


async def test_idempotent_consumer_applies_a_message_once(db, tables, custody_records):
    processed = ProcessedMessages(tables)
    event = released(1)

    async def apply() -> bool:
        async with transaction(db) as conn:
            if not await processed.first_time(conn, "warehouse", event.id):
                return False
            await execute(conn, custody_records.insert().values(id=1, status="released"))
            return True

    with contextlib.suppress(RuntimeError):
        async with transaction(db) as conn:
            assert await processed.first_time(conn, "warehouse", event.id)
            raise RuntimeError("crashed before commit")
    assert await apply()
    assert not await apply()
    async with transaction(db) as conn:
        assert await processed.first_time(conn, "footwear", event.id)
        cursor = await execute(conn, select(func.count()).select_from(custody_records))
        assert await cursor.fetchone() == (1,)
