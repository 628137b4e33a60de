"""The embedded bus engine: one SQLite file in WAL mode, written by one group-commit thread.

Everything that writes (publishes, claims, settlements, rewinds, retention)
goes through ``GroupCommitWriter`` so it shares transactions and fsyncs;
everything that only reads (``read``, ``stats``, dead-letter listings) uses a
second connection, which WAL lets run beside the writer without blocking it.
A third, on its own thread, copies the WAL back into the file (``checkpoint``)
so no commit waits for that.

Several processes may open the same file. SQLite's write lock serialises their
transactions, a claim leases a message inside one, and each process looks for
work written by the others every ``poll_interval``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self, TypeVar

from polestar.bus.config import SqliteBusConfig, SqliteSynchronous
from polestar.bus.contract import (
    BusMessage,
    BusStats,
    ConsumerSpec,
    DeadLetter,
    Delivery,
    PublishAck,
    RequestHandler,
    check_filter,
)
from polestar.bus.sqlite import admin, queries, schema
from polestar.bus.sqlite.checkpoint import Checkpointer
from polestar.bus.sqlite.coalescer import Coalescer
from polestar.bus.sqlite.consumer import SqliteConsumer, take_acks
from polestar.bus.sqlite.core import BusCore, WakeSignal
from polestar.bus.sqlite.dedupe import DedupeMemory
from polestar.bus.sqlite.publishing import forward, insert_messages, prepare
from polestar.bus.sqlite.recent import RecentMessages
from polestar.bus.sqlite.requests import LocalRequests, LocalResponder
from polestar.bus.sqlite.rows import Outgoing, StoredMessage, to_timestamp
from polestar.bus.sqlite.rules import GroupRules
from polestar.bus.sqlite.tail import SqliteTail
from polestar.bus.sqlite.writer import GroupCommitWriter
from polestar.errors import BusClosed, BusError
from polestar.model.envelope import Envelope

log = logging.getLogger(__name__)

T = TypeVar("T")

READ_PAGE = 500


class SqliteEngine:
    """The embedded ``BusEngine``: durable, group-committed, shareable between processes.

    Args:
        config: the engine's settings.
        data_dir: folder a relative ``config.path`` is resolved under (the hub's data folder).
    """

    name = "sqlite"

    def __init__(self, config: SqliteBusConfig, *, data_dir: Path | None = None) -> None:
        self.config = config
        self.path = config.path if config.path.is_absolute() or data_dir is None else data_dir / config.path
        self._core: BusCore | None = None
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()
        self._requests = LocalRequests()
        self._maintenance: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._coalescer: Coalescer[Outgoing, PublishAck] | None = None
        self._dedupe: DedupeMemory | None = None
        self._checkpointer: Checkpointer | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open (creating if needed) the bus file, start the writer and the retention task."""
        if self._closed:
            raise BusClosed("the SQLite bus engine is closed; create a new one")
        if self._core is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        signal = WakeSignal()
        self._dedupe = DedupeMemory(self.config.retention.dedupe_window)
        recent = RecentMessages()
        checkpoint_connection = functools.partial(schema.connect, self.path, self.config.synchronous)
        self._checkpointer = Checkpointer(checkpoint_connection)
        writer = GroupCommitWriter(
            self._open_writer,
            max_batch=self.config.group_commit_max,
            delay=self.config.group_commit_delay,
            on_commit=signal.notify,
            listeners=(self._dedupe, recent, self._checkpointer),
            relax=self.config.synchronous == SqliteSynchronous.FULL,
        )
        await asyncio.to_thread(writer.start)
        self._checkpointer.start()
        self._reader = await asyncio.to_thread(schema.connect, self.path, self.config.synchronous)
        self._loop = asyncio.get_running_loop()
        self._core = BusCore(writer, signal, self.config.poll_interval, recent)
        self._maintenance = asyncio.create_task(self._maintain(), name="polestar-bus-retention")

    async def close(self) -> None:
        """Finish queued writes, stop the writer and close the file; later calls raise ``BusClosed``."""
        if self._closed:
            return
        self._closed = True
        core, self._core = self._core, None
        if core is None:
            return
        core.closed = True
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
        self._requests.clear()
        core.signal.notify()
        await asyncio.to_thread(core.writer.stop)
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
        await asyncio.to_thread(self._close_reader)

    def notify_threadsafe(self) -> None:
        """Wake this engine's waiting consumers from any thread (after an outbox commit)."""
        core, loop = self._core, self._loop
        if core is not None and loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
                loop.call_soon_threadsafe(core.signal.notify)

    # -- publishing --------------------------------------------------------------------

    async def publish(
        self,
        envelope: Envelope,
        *,
        subject: str | None = None,
        idempotency_key: str | None = None,
    ) -> PublishAck:
        """Store ``envelope`` durably on ``subject`` (default: its type); see ``BusEngine``."""
        core = self._require()
        item = prepare(envelope, subject, idempotency_key, self.config.retention.max_message_bytes)
        (ack,) = await self._publishes(core).submit([item])
        return ack

    async def publish_many(self, items: Sequence[tuple[Envelope, str | None]]) -> list[PublishAck]:
        """Publish ``(envelope, subject)`` pairs in one transaction: all stored, or none."""
        core = self._require()
        limit = self.config.retention.max_message_bytes
        prepared = [prepare(envelope, subject, None, limit) for envelope, subject in items]
        if not prepared:
            return []
        return await self._publishes(core).submit(prepared)

    async def forward(
        self, items: Sequence[tuple[Envelope, str | None]], deliveries: Sequence[Delivery]
    ) -> list[PublishAck]:
        """Publish ``items`` and ``ack`` ``deliveries`` in one transaction: both happen, or neither."""
        core = self._require()
        retention = self.config.retention
        prepared = [
            prepare(envelope, subject, None, retention.max_message_bytes) for envelope, subject in items
        ]
        acks = take_acks(core, deliveries)
        if not prepared and not acks:
            return []
        op = functools.partial(
            forward,
            items=prepared,
            acks=acks,
            dedupe_window=retention.dedupe_window,
            max_messages=retention.max_messages,
            memory=self._dedupe,
            recent=core.recent,
        )
        return await core.run(op, wakes=True)

    async def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """``ack`` every delivery in one write; deliveries already settled are skipped, as by ``ack``."""
        core = self._require()
        acks = take_acks(core, deliveries)
        if acks:
            ordered = any(rules.ordered for rules, _, _, _ in acks)
            await (core.ordered_acks if ordered else core.acks).submit(acks)

    def _publishes(self, core: BusCore) -> Coalescer[Outgoing, PublishAck]:
        if self._coalescer is None:
            retention = self.config.retention
            insert = functools.partial(
                insert_messages,
                dedupe_window=retention.dedupe_window,
                max_messages=retention.max_messages,
                memory=self._dedupe,
                recent=core.recent,
            )
            self._coalescer = Coalescer(core, insert, wakes=True)
        return self._coalescer

    # -- consuming ---------------------------------------------------------------------

    async def subscribe(self, spec: ConsumerSpec) -> SqliteConsumer:
        """Join (creating if needed) the durable group described by ``spec``."""
        core = self._require()
        await core.run(functools.partial(admin.join_group, spec=spec))
        return SqliteConsumer(core, spec)

    async def replay(
        self, group: str, *, from_sequence: int | None = None, from_time: datetime | None = None
    ) -> None:
        """Move ``group`` back so it receives again from a sequence or a time (default: the start)."""
        core = self._require()
        if from_sequence is not None and from_time is not None:
            raise ValueError("give from_sequence or from_time, not both")
        ts = to_timestamp(from_time) if from_time is not None else None
        op = functools.partial(admin.rewind, group=group, from_sequence=from_sequence, from_ts=ts)
        await core.run(op, wakes=True)

    # -- request/reply -----------------------------------------------------------------

    async def request(
        self, envelope: Envelope, *, subject: str | None = None, timeout: float = 5.0
    ) -> Envelope:
        """Ask a responder registered on this engine (embedded request/reply is in-process)."""
        self._require()
        item = prepare(envelope, subject, None, self.config.retention.max_message_bytes)
        return await self._requests.request(envelope, item.subject, timeout)

    async def serve(self, subject: str, handler: RequestHandler) -> LocalResponder:
        """Answer requests on ``subject`` (a filter; wildcards allowed) in this process."""
        self._require()
        return self._requests.add(subject, handler)

    # -- reading and operating ---------------------------------------------------------

    async def read(
        self,
        *,
        from_sequence: int | None = None,
        from_time: datetime | None = None,
        subjects: Sequence[str] = (">",),
        limit: int | None = None,
    ) -> AsyncIterator[BusMessage]:
        """Iterate stored messages in order without consuming them."""
        if from_sequence is not None and from_time is not None:
            raise ValueError("give from_sequence or from_time, not both")
        rules = GroupRules(
            "read", tuple(check_filter(s) for s in subjects), ordered=False, ack_wait=1.0, max_attempts=1
        )
        if from_time is not None:
            start = await self._query(queries.first_at_or_after, to_timestamp(from_time))
        else:
            start = max(1, from_sequence or 1)
        left = limit
        while left is None or left > 0:
            page = await self._query(queries.messages_from, start, READ_PAGE)
            if not page:
                return
            for stored in page:
                if rules.matches(stored.subject):
                    yield stored.decode()
                    if left is not None:
                        left -= 1
                        if left == 0:
                            return
            start = page[-1].seq + 1

    async def dead_letters(self, group: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """Dead letters, oldest first, optionally for one group."""
        return await self._query(queries.dead_letters, group, limit)

    async def dead_letter(self, dead_letter_id: str) -> DeadLetter:
        """One dead letter, or ``DeadLetterNotFound``."""
        return await self._query(queries.dead_letter, dead_letter_id)

    async def replay_dead_letter(self, dead_letter_id: str) -> PublishAck:
        """Send a dead letter back to its group as a fresh delivery, and remove it."""
        core = self._require()
        return await core.run(
            functools.partial(admin.replay_dead_letter, dead_letter_id=dead_letter_id), wakes=True
        )

    async def discard_dead_letter(self, dead_letter_id: str) -> None:
        """Delete a dead letter an operator has decided not to replay."""
        core = self._require()
        await core.run(functools.partial(admin.discard_dead_letter, dead_letter_id=dead_letter_id))

    async def stats(self) -> BusStats:
        """Counts for ``polestar bus stats``."""
        return await self._query(queries.stats, self.name)

    def tail(self, subjects: Sequence[str]) -> SqliteTail:
        """Follow ``subjects`` in sequence order without consuming; see ``polestar.bus.tailing``."""
        core = self._require()

        async def read_page(start: int, limit: int) -> list[StoredMessage]:
            return await self._query(queries.messages_from, start, limit)

        return SqliteTail(core, read_page, subjects)

    async def prune(self) -> None:
        """Apply retention now (it also runs by itself in the background)."""
        core = self._require()
        await core.run(functools.partial(admin.prune, retention=self.config.retention), wakes=True)

    # -- internals ---------------------------------------------------------------------

    def _require(self) -> BusCore:
        if self._closed:
            raise BusClosed("the SQLite bus engine is closed")
        if self._core is None:
            raise BusError("the SQLite bus engine has not been started; call start() first")
        return self._core

    def _open_writer(self) -> sqlite3.Connection:
        conn = schema.connect(self.path, self.config.synchronous)
        schema.create_schema(conn)
        return conn

    async def _query(self, fn: Callable[..., T], *args: object) -> T:
        self._require()

        def run() -> T:
            with self._reader_lock:
                if self._reader is None:
                    raise BusClosed("the SQLite bus engine is closed")
                return fn(self._reader, *args)

        return await asyncio.to_thread(run)

    def _close_reader(self) -> None:
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    async def _maintain(self) -> None:
        retention = self.config.retention
        # Often enough that a short max_age is honoured closely, never busier than 20/s.
        interval = min(30.0, max(0.05, (retention.max_age or 120.0) / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.prune()
            except BusClosed:
                return
            except Exception:
                log.exception("bus retention pass failed; will try again")
