"""Folding concurrent calls of one kind into one writer operation.

Group commit already shares one fsync between a batch of operations; this
goes a step further for the calls that are the bulk of the traffic, publishes
and acknowledgements: every call waiting when the writer gets to them becomes
one set-wise operation (``insert_messages``, ``settling.ack_many``), a few
statements for the lot instead of a few each, and one job for the writer
instead of one per call.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from polestar.bus.sqlite.core import BusCore

I = TypeVar("I")  # noqa: E741 - the conventional name beside R
R = TypeVar("R")

BatchOperation = Callable[[sqlite3.Connection, list[I]], list[R]]
"""Runs many calls' items in the writer's transaction; one result per item, in order."""


class Coalescer(Generic[I, R]):
    """Calls waiting for the writer, taken by it all at once.

    Args:
        core: the engine's running parts.
        operation: does the work for every waiting item at once.
        wakes: whether a commit of this work may give waiting consumers something to do.
        durable: whether the work must be fsynced before callers hear of it (see ``writer``).
    """

    def __init__(
        self,
        core: BusCore,
        operation: BatchOperation[I, R],
        *,
        wakes: bool,
        durable: bool = True,
    ) -> None:
        self._core = core
        self._operation = operation
        self._wakes = wakes
        self._durable = durable
        self._lock = threading.Lock()  # the writer thread takes what the event loop adds
        self._waiting: list[tuple[list[I], asyncio.Future[list[R]]]] = []
        self._scheduled = False

    async def submit(self, items: list[I]) -> list[R]:
        """Do ``items`` (in one transaction with whatever else is waiting); one result each."""
        self._core.check_open()
        future: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiting.append((items, future))
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            drain = _Drain(self)
            job = self._core.writer.submit(drain, wakes=self._wakes, durable=self._durable)
            job.add_done_callback(drain.settle)
        return await future

    def take(self) -> list[tuple[list[I], asyncio.Future[list[R]]]]:
        """Everything waiting now; later calls schedule another drain (writer thread)."""
        with self._lock:
            taken, self._waiting = self._waiting, []
            self._scheduled = False
        return taken

    def run(self, conn: sqlite3.Connection, items: list[I]) -> list[R]:
        """Do ``items`` on ``conn`` (writer thread)."""
        return self._operation(conn, items)


class _Drain(Generic[I, R]):
    """One writer operation doing whatever was waiting when it first ran."""

    def __init__(self, owner: Coalescer[I, R]) -> None:
        self._owner = owner
        self._taken: list[tuple[list[I], asyncio.Future[list[R]]]] | None = None

    def __call__(self, conn: sqlite3.Connection) -> list[list[R]]:
        # The writer may run an operation twice (a neighbour failed and the batch is
        # retried job by job): take the waiting calls only the first time.
        if self._taken is None:
            self._taken = self._owner.take()
        flat = [item for items, _ in self._taken for item in items]
        results = self._owner.run(conn, flat)
        split: list[list[R]] = []
        start = 0
        for items, _ in self._taken:
            split.append(results[start : start + len(items)])
            start += len(items)
        return split

    def settle(self, job: asyncio.Future[list[list[R]]]) -> None:
        """Hand each caller its results, or the error (on the event loop)."""
        taken = self._taken or []
        error = job.exception() if not job.cancelled() else asyncio.CancelledError()
        for index, (_, future) in enumerate(taken):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(job.result()[index])
