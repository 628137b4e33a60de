"""Transactional outbox and idempotent consumers: a change and its event, atomically.

A component that stores something and announces it must never do one without
the other. The outbox makes them one transaction: the application's own SQL
and the bus's insert commit or roll back together. The consuming side mirrors
it: ``first_time`` records a message id as processed in the same transaction
as the consumer's writes, so a redelivered message (the consumer crashed after
committing but before acknowledging) is recognised and skipped.

``Outbox``, ``OutboxTransaction`` and ``IdempotentConsumer`` are the shape;
``SqliteOutbox`` is the embedded profile's, writing straight into the bus file
(the bus *is* the outbox table, so nothing needs relaying). The cluster
profile's PostgreSQL outbox, relayed to JetStream, lives in ``pg_outbox``.

Example::

    outbox = SqliteOutbox(engine)

    def record_arrest(tx: SqliteOutboxTransaction) -> None:
        if not tx.first_time("custody-intake", event.id):
            return  # a redelivery: done already
        tx.execute("INSERT INTO detainees (id, name) VALUES (?, ?)", (ref, name))
        tx.publish(event.caused(source="/custody", type="custody.detainee.booked"))

    await outbox.run(record_arrest)  # then ack the delivery

Keep outbox transactions short: they hold the bus file's write lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol, TypeVar

from polestar.bus.contract import PublishAck
from polestar.bus.sqlite.dedupe import DedupeMemory
from polestar.bus.sqlite.engine import SqliteEngine
from polestar.bus.sqlite.publishing import insert_messages, prepare
from polestar.bus.sqlite.rows import now
from polestar.bus.sqlite.schema import connect
from polestar.errors import BusClosed
from polestar.model.envelope import Envelope

T = TypeVar("T")


class IdempotentConsumer(Protocol):
    """Remembers, inside the consumer's own transaction, which messages a group has processed."""

    def first_time(self, group: str, message_id: str) -> bool:
        """Record ``message_id`` as processed by ``group``; False if it already was."""
        ...


class OutboxTransaction(IdempotentConsumer, Protocol):
    """One open transaction: the application's writes, and events that commit with them."""

    def publish(
        self, envelope: Envelope, *, subject: str | None = None, idempotency_key: str | None = None
    ) -> PublishAck:
        """Add ``envelope`` to the bus when (and only if) this transaction commits."""
        ...


class Outbox(Protocol):
    """Opens transactions in which data and events are written together."""

    def transaction(self) -> AbstractContextManager[OutboxTransaction]:
        """Begin; commit on leaving normally, roll back on an exception."""
        ...


class SqliteOutboxTransaction:
    """A transaction on the bus file: run your SQL with ``execute``, add events with ``publish``."""

    def __init__(self, conn: sqlite3.Connection, engine: SqliteEngine, dedupe: DedupeMemory) -> None:
        self.connection = conn
        self._engine = engine
        self._dedupe = dedupe
        self.published = False

    def execute(self, sql: str, parameters: Any = ()) -> sqlite3.Cursor:
        """Run the application's own statement inside this transaction."""
        return self.connection.execute(sql, parameters)

    def publish(
        self, envelope: Envelope, *, subject: str | None = None, idempotency_key: str | None = None
    ) -> PublishAck:
        """Add ``envelope`` to the bus with this transaction (``PublishRefused`` as ``publish``)."""
        retention = self._engine.config.retention
        item = prepare(envelope, subject, idempotency_key, retention.max_message_bytes)
        (ack,) = insert_messages(
            self.connection,
            [item],
            dedupe_window=retention.dedupe_window,
            max_messages=retention.max_messages,
            memory=self._dedupe,
        )
        self.published = True
        return ack

    def first_time(self, group: str, message_id: str) -> bool:
        """Record ``message_id`` as processed by ``group``; False if it already was."""
        cursor = self.connection.execute(
            "INSERT OR IGNORE INTO processed (grp, message_id, at) VALUES (?, ?, ?)",
            (group, message_id, now()),
        )
        return cursor.rowcount == 1


class SqliteOutbox:
    """The embedded outbox: transactions on the bus file itself, beside the engine.

    The application's tables live in the same file as the bus, so one SQLite
    transaction covers both. The connection opens on first use.
    """

    def __init__(self, engine: SqliteEngine) -> None:
        self._engine = engine
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._closed = False
        # This connection's record of recent idempotency keys, as the engine's writer keeps its own.
        self._dedupe = DedupeMemory(engine.config.retention.dedupe_window)

    @contextmanager
    def transaction(self) -> Iterator[SqliteOutboxTransaction]:
        """Begin; commit on leaving normally, roll back on an exception (blocking: see ``run``)."""
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            tx = SqliteOutboxTransaction(conn, self._engine, self._dedupe)
            try:
                yield tx
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self._dedupe.rolled_back()
                raise
            self._dedupe.committed()
        if tx.published:
            self._engine.notify_threadsafe()

    async def run(self, work: Callable[[SqliteOutboxTransaction], T]) -> T:
        """Run ``work`` in one transaction on a worker thread, so the event loop never blocks."""

        def in_thread() -> T:
            with self.transaction() as tx:
                return work(tx)

        return await asyncio.to_thread(in_thread)

    def close(self) -> None:
        """Close the connection; later transactions raise ``BusClosed``."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise BusClosed("the outbox is closed")
        if self._conn is None:
            self._conn = connect(self._engine.path, self._engine.config.synchronous)
        return self._conn
