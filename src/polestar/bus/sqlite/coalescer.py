"""Folding concurrent publishes into one writer operation.

Group commit already shares one fsync between a batch of operations; this
goes a step further for publishes, which are the bulk of the traffic: every
publish waiting when the writer gets to them becomes one set-wise insert
(``insert_messages``), a few statements for the lot instead of a few each.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable

from polestar.bus.contract import PublishAck
from polestar.bus.sqlite.core import BusCore
from polestar.bus.sqlite.rows import Outgoing

Insert = Callable[[sqlite3.Connection, list[Outgoing]], list[PublishAck]]
_Waiting = list[tuple[list[Outgoing], asyncio.Future[list[PublishAck]]]]


class PublishCoalescer:
    """Publishes waiting for the writer, taken by it all at once."""

    def __init__(self, core: BusCore, insert: Insert) -> None:
        self._core = core
        self._insert = insert
        self._lock = threading.Lock()  # the writer thread takes what the event loop adds
        self._waiting: _Waiting = []
        self._scheduled = False

    async def publish(self, items: list[Outgoing]) -> list[PublishAck]:
        """Store ``items`` (in one transaction with whatever else is waiting)."""
        self._core.check_open()
        future: asyncio.Future[list[PublishAck]] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiting.append((items, future))
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            drain = _Drain(self)
            job = self._core.writer.submit(drain, wakes=True)
            job.add_done_callback(drain.settle)
        return await future

    def take(self) -> _Waiting:
        """Everything waiting now; later publishes schedule another drain (writer thread)."""
        with self._lock:
            taken, self._waiting = self._waiting, []
            self._scheduled = False
        return taken


class _Drain:
    """One writer operation inserting whatever was waiting when it first ran."""

    def __init__(self, owner: PublishCoalescer) -> None:
        self._owner = owner
        self._taken: _Waiting | None = None

    def __call__(self, conn: sqlite3.Connection) -> list[list[PublishAck]]:
        # The writer may run an operation twice (a neighbour failed and the batch is
        # retried job by job): take the waiting publishes only the first time.
        if self._taken is None:
            self._taken = self._owner.take()
        flat = [item for items, _ in self._taken for item in items]
        acks = self._owner._insert(conn, flat)
        split: list[list[PublishAck]] = []
        start = 0
        for items, _ in self._taken:
            split.append(acks[start : start + len(items)])
            start += len(items)
        return split

    def settle(self, job: asyncio.Future[list[list[PublishAck]]]) -> None:
        """Hand each publisher its acknowledgements, or the error (on the event loop)."""
        taken = self._taken or []
        error = job.exception() if not job.cancelled() else asyncio.CancelledError()
        for index, (_, future) in enumerate(taken):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(job.result()[index])
