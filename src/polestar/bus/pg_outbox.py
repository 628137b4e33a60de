"""The cluster profile's transactional outbox and idempotent consumer, on PostgreSQL.

A component that changes its own tables and emits an event must not do one
without the other. It writes the event into the outbox table *in the same
transaction* as its own rows (``stage``); a relay then moves outbox rows to the
bus in order and marks them published::

    async with await psycopg.AsyncConnection.connect(url) as conn:  # one transaction
        await conn.execute("INSERT INTO custody_record ...")
        await outbox.stage(conn, event)          # commits or rolls back with the record

    relay = OutboxRelay(url, bus, outbox)         # in every hub process
    await relay.run(stop)

Tables are SQLAlchemy Core definitions (so migrations and the store can share
them); statements run on psycopg 3's native async connection, which needs no
greenlet bridge and is what the caller's transaction is already on.

Each event is published with ``Nats-Msg-Id`` = its envelope id, so a relay that
dies after the publish but before marking the row only republishes it, and the
bus drops the repeat inside its dedupe window. Several relays may run: a relay
works on one *lane* (rows whose partition key hashes to it) only while it holds
that lane's transaction-scoped advisory lock, and takes rows ``FOR UPDATE SKIP
LOCKED``; so no row is published by two relays at once and, within a lane, rows
go out in the order they were committed. ``lanes=1`` (the default) is one
global order; more lanes let relays work in parallel while each partition key
keeps its order.

``ProcessedMessages`` is the consuming side: record a message id per group in
the same transaction as the consumer's own writes, and skip the writes when it
was already recorded. A redelivery after a crash then changes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    delete,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from polestar.bus.contract import BusEngine, check_subject
from polestar.errors import BusError, PublishRefused
from polestar.model.envelope import Envelope

logger = logging.getLogger(__name__)

AsyncConnection = psycopg.AsyncConnection[tuple[object, ...]]
"""The caller's connection; its open transaction is the one the outbox joins."""

OUTBOX_TABLE = "polestar_outbox"
PROCESSED_TABLE = "polestar_processed"


@dataclass(frozen=True, slots=True)
class OutboxTables:
    """The two tables, bound to one ``MetaData`` (and schema)."""

    metadata: MetaData
    outbox: Table
    processed: Table

    @classmethod
    def define(cls, schema: str | None = None, metadata: MetaData | None = None) -> OutboxTables:
        """Define the tables in ``schema`` (default: the search path) on ``metadata``."""
        md = metadata if metadata is not None else MetaData(schema=schema)
        outbox = Table(
            OUTBOX_TABLE,
            md,
            Column("id", BigInteger, primary_key=True, autoincrement=True, comment="Commit order"),
            Column("event_id", String(256), nullable=False, comment="Envelope id; the bus dedupe key"),
            Column("subject", String(512), nullable=True, comment="Bus subject; NULL means the type"),
            Column("partition_key", String(256), nullable=True),
            Column("envelope", LargeBinary, nullable=False, comment="The envelope as published"),
            Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column("published_at", DateTime(timezone=True), nullable=True),
            Column("sequence", BigInteger, nullable=True, comment="Stream sequence once published"),
            Column("attempts", Integer, nullable=False, server_default=text("0")),
            Column("last_error", Text, nullable=True),
            schema=schema,
        )
        Index(
            f"ix_{OUTBOX_TABLE}_unpublished",
            outbox.c.id,
            postgresql_where=outbox.c.published_at.is_(None),
        )
        processed = Table(
            PROCESSED_TABLE,
            md,
            Column("group_name", String(64), primary_key=True),
            Column("message_id", String(256), primary_key=True),
            Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            schema=schema,
        )
        return cls(md, outbox, processed)

    async def create(self, conn: AsyncConnection) -> None:
        """Create the tables if missing (deployments may use migrations instead)."""
        for table in (self.outbox, self.processed):
            await execute(conn, CreateTable(table, if_not_exists=True))
            for index in table.indexes:
                await execute(conn, CreateIndex(index, if_not_exists=True))


_DIALECT = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated


async def execute(conn: AsyncConnection, statement: ClauseElement) -> psycopg.AsyncCursor[tuple[object, ...]]:
    """Run a SQLAlchemy Core statement on a psycopg connection."""
    assert isinstance(statement, (Executable, CreateTable, CreateIndex))
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    return await conn.execute(str(compiled), compiled.params or None)


class Outbox:
    """Writes events into the outbox inside the caller's transaction."""

    def __init__(self, tables: OutboxTables, *, max_message_bytes: int = 1024 * 1024) -> None:
        self.tables = tables
        self._max_bytes = max_message_bytes

    async def stage(self, conn: AsyncConnection, envelope: Envelope, subject: str | None = None) -> None:
        """Add ``envelope`` to the outbox; it is published only if the transaction commits."""
        if not isinstance(envelope, Envelope):
            raise PublishRefused(f"only an Envelope can be staged, not {type(envelope).__name__}")
        if subject is not None:
            try:
                check_subject(subject)
            except ValueError as exc:
                raise PublishRefused(str(exc)) from None
        data = envelope.to_json()
        if len(data) > self._max_bytes:
            raise PublishRefused(f"envelope of {len(data)} bytes is over the bus limit of {self._max_bytes}")
        await execute(
            conn,
            self.tables.outbox.insert().values(
                event_id=envelope.id, subject=subject, partition_key=envelope.partitionkey, envelope=data
            ),
        )

    async def pending(self, conn: AsyncConnection) -> int:
        """Rows not yet published."""
        outbox = self.tables.outbox
        query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        row = await (await execute(conn, query)).fetchone()
        assert row is not None
        return int(str(row[0]))

    async def prune(self, conn: AsyncConnection, published_before: datetime) -> int:
        """Delete rows published before a time; returns how many."""
        outbox = self.tables.outbox
        cursor = await execute(
            conn,
            delete(outbox).where(
                and_(outbox.c.published_at.is_not(None), outbox.c.published_at < published_before)
            ),
        )
        return cursor.rowcount


class OutboxRelay:
    """Moves committed outbox rows to the bus, in order per lane, safely beside other relays."""

    def __init__(
        self,
        conninfo: str,
        bus: BusEngine,
        outbox: Outbox,
        *,
        batch_size: int = 500,
        lanes: int = 1,
        poll_interval: float = 0.2,
    ) -> None:
        if batch_size < 1 or lanes < 1 or poll_interval <= 0:
            raise ValueError("batch_size and lanes must be at least 1 and poll_interval positive")
        self._conninfo = conninfo
        self._bus = bus
        self._tables = outbox.tables
        self._batch = batch_size
        self._lanes = lanes
        self._poll = poll_interval
        table = self._tables.outbox
        # One advisory-lock key space per outbox table, so two installations never contend.
        self._lock_base = zlib.crc32(f"{table.schema}.{table.name}".encode()) << 16

    async def relay_once(self) -> int:
        """Publish what is waiting in every lane this relay can lock; returns how many rows."""
        moved = 0
        for lane in range(self._lanes):
            moved += await self._relay_lane(lane)
        return moved

    async def _relay_lane(self, lane: int) -> int:
        ids: list[int] = []
        try:
            return await self._publish_lane(lane, ids)
        except BusError as exc:
            # The transaction rolled back: the rows are unlocked and will be tried again.
            await self._record_failure(ids, exc)
            raise

    async def _connect(self) -> AsyncConnection:
        return await psycopg.AsyncConnection.connect(self._conninfo)

    async def _publish_lane(self, lane: int, ids: list[int]) -> int:
        outbox = self._tables.outbox
        # The connection context commits on success and rolls back on any error.
        async with await self._connect() as conn:
            lock = select(func.pg_try_advisory_xact_lock(self._lock_base + lane))
            locked = await (await execute(conn, lock)).fetchone()
            if not locked or not locked[0]:
                return 0  # another relay is working on this lane; order needs one at a time
            query = select(outbox.c.id, outbox.c.subject, outbox.c.envelope).where(
                outbox.c.published_at.is_(None)
            )
            if self._lanes > 1:
                lane_expr = func.mod(
                    func.abs(func.hashtext(func.coalesce(outbox.c.partition_key, outbox.c.event_id))),
                    self._lanes,
                )
                query = query.where(lane_expr == lane)
            query = query.order_by(outbox.c.id).limit(self._batch).with_for_update(skip_locked=True)
            rows = await (await execute(conn, query)).fetchall()
            if not rows:
                return 0
            ids.extend(int(str(row[0])) for row in rows)
            items = [(Envelope.from_json(_bytes(row[2])), _text(row[1])) for row in rows]
            # publish_many uses each envelope id as Nats-Msg-Id: a repeat after a crash is dropped.
            acks = await self._bus.publish_many(items)
            now = func.now()
            for row_id, ack in zip(ids, acks, strict=True):
                await execute(
                    conn,
                    update(outbox)
                    .where(outbox.c.id == row_id)
                    .values(published_at=now, sequence=ack.sequence, attempts=outbox.c.attempts + 1),
                )
        return len(rows)

    async def _record_failure(self, ids: list[int], exc: BaseException) -> None:
        outbox = self._tables.outbox
        if not ids:
            return
        # Best effort: the note for operators must not hide the bus error being raised.
        with contextlib.suppress(Exception):
            async with await self._connect() as conn:
                await execute(
                    conn,
                    update(outbox)
                    .where(outbox.c.id.in_(ids))
                    .values(attempts=outbox.c.attempts + 1, last_error=str(exc)[:2000]),
                )

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; bus outages are logged and retried, never fatal."""
        while not stop.is_set():
            try:
                moved = await self.relay_once()
            except BusError as exc:
                logger.warning("outbox relay: bus unavailable, will retry: %s", exc)
                moved = 0
            if moved == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._poll)


class ProcessedMessages:
    """The idempotent-consumer record: which message ids each group has already applied."""

    def __init__(self, tables: OutboxTables) -> None:
        self.tables = tables

    async def first_time(self, conn: AsyncConnection, group: str, message_id: str) -> bool:
        """Record ``message_id`` for ``group`` in the caller's transaction; False if already there.

        Call it first inside the transaction that makes the consumer's writes and skip
        them on False. If the transaction rolls back, so does the record.
        """
        processed = self.tables.processed
        statement = (
            pg_insert(processed)
            .values(group_name=group, message_id=message_id)
            .on_conflict_do_nothing(index_elements=[processed.c.group_name, processed.c.message_id])
            .returning(processed.c.message_id)
        )
        return await (await execute(conn, statement)).fetchone() is not None

    async def prune(self, conn: AsyncConnection, processed_before: datetime) -> int:
        """Forget ids older than the bus could ever redeliver (its retention); returns how many."""
        processed = self.tables.processed
        cursor = await execute(conn, delete(processed).where(processed.c.processed_at < processed_before))
        return cursor.rowcount


def _bytes(value: object) -> bytes:
    assert isinstance(value, (bytes, memoryview))
    return bytes(value)


def _text(value: object) -> str | None:
    assert value is None or isinstance(value, str)
    return value
