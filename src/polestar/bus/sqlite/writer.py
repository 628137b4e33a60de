"""Group commit: one thread owns the write connection and commits work in batches.

Callers on the event loop submit *operations* (plain functions of a
connection). The writer thread takes every operation waiting, up to
``group_commit_max``, runs them in one ``BEGIN IMMEDIATE`` transaction and
commits once, so a thousand publishes share one fsync. Only after the commit
does it resolve the callers' futures, with one hop back to the event loop per
batch rather than per operation.

A transaction of nothing but *relaxed* operations (leases and acknowledgements)
commits with ``PRAGMA synchronous=NORMAL`` when the engine runs at FULL: in WAL
mode that commit is not fsynced, but the next FULL commit fsyncs the WAL and
with it every frame before it, so what is durable is always a prefix of the
commits. Losing a lease or an acknowledgement to a power cut means the message
is delivered again, which at-least-once delivery already allows; a publish (or
``forward``, which carries publishes) is never relaxed, so it is on disk before
its caller hears of it. See docs/bus-performance.md.

If an operation raises, the batch is rolled back and each of its operations
is run again in a transaction of its own, so one caller's error (say, a dead
letter that does not exist) never fails its neighbours. Operations must
therefore be pure functions of the database: no side effects outside it,
except through a ``TransactionListener``, which hears of every commit and
rollback (the dedupe memory is one).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from polestar.errors import BusUnavailable

T = TypeVar("T")

Operation = Callable[[sqlite3.Connection], T]
"""A unit of work run inside the writer's transaction."""


class TransactionListener(Protocol):
    """Keeps state beside the database (say, a cache of it) and must hear how each transaction ended."""

    def committed(self) -> None:
        """The transaction committed (called on the writer thread)."""
        ...

    def rolled_back(self) -> None:
        """The transaction rolled back (called on the writer thread)."""
        ...


@dataclass(slots=True)
class _Job(Generic[T]):
    operation: Operation[T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop
    result: Any = None
    error: BaseException | None = None
    wakes: bool = field(default=False)
    durable: bool = field(default=True)


_STOP = object()


class GroupCommitWriter:
    """The single writer of one bus database.

    Args:
        connect: opens the write connection; called on the writer thread.
        max_batch: most operations folded into one transaction.
        delay: seconds to wait for more operations before committing a small batch.
        on_commit: called on the event loop after a batch that had waking operations commits.
        listeners: told on the writer thread how each transaction ended.
        relax: whether transactions of only non-durable operations may skip their fsync
            (``synchronous=NORMAL``); only meaningful when the connection runs at FULL.
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        max_batch: int,
        delay: float,
        on_commit: Callable[[], None],
        listeners: Sequence[TransactionListener] = (),
        relax: bool = False,
    ) -> None:
        self._connect = connect
        self._listeners = tuple(listeners)
        self._max_batch = max_batch
        self._delay = delay
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[_Job[Any] | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._relax = relax
        self._relaxed = False  # the connection's synchronous is NORMAL right now

    def start(self) -> None:
        """Start the writer thread; the connection is opened there."""
        ready: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="polestar-bus-writer", daemon=True
        )
        self._thread.start()
        problem = ready.get()
        if problem is not None:
            raise BusUnavailable(f"cannot open the bus database: {problem}") from problem

    def submit(
        self, operation: Operation[T], *, wakes: bool = False, durable: bool = True
    ) -> asyncio.Future[T]:
        """Queue ``operation``; the future resolves once its transaction has committed.

        ``durable=False`` marks work whose loss to a power cut only causes a redelivery
        (leases, acknowledgements): a transaction of nothing else may skip its fsync.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(operation, future, loop, wakes=wakes, durable=durable))
        return future

    def stop(self) -> None:
        """Finish the queued work, close the connection and end the thread (blocking)."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    # -- the writer thread -------------------------------------------------------------

    def _run(self, ready: queue.SimpleQueue[BaseException | None]) -> None:
        try:
            self._conn = self._connect()
        except Exception as exc:  # noqa: BLE001 - handed to start(), which raises it
            ready.put(exc)
            return
        ready.put(None)
        try:
            stopping = False
            while not stopping:
                batch, stopping = self._gather()
                if batch:
                    self._commit(batch)
        finally:
            self._conn.close()

    def _gather(self) -> tuple[list[_Job[Any]], bool]:
        batch: list[_Job[Any]] = []
        item = self._queue.get()
        deadline = time.monotonic() + self._delay
        while True:
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Job)
            batch.append(item)
            if len(batch) >= self._max_batch:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return batch, False
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    return batch, False

    def _commit(self, batch: list[_Job[Any]]) -> None:
        assert self._conn is not None
        try:
            self._transaction(batch)
        except _OperationFailedError:
            for job in batch:
                try:
                    self._transaction([job])
                except _OperationFailedError:
                    pass  # the job carries its own error
                except sqlite3.Error as exc:
                    job.error = BusUnavailable(f"bus database write failed: {exc}")
        except sqlite3.Error as exc:
            for job in batch:
                job.error = BusUnavailable(f"bus database write failed: {exc}")
        self._hand_back(batch)

    def _transaction(self, jobs: list[_Job[Any]]) -> None:
        assert self._conn is not None
        conn = self._conn
        if self._relax:
            relaxed = not any(job.durable for job in jobs)
            if relaxed != self._relaxed:
                conn.execute(f"PRAGMA synchronous = {'NORMAL' if relaxed else 'FULL'}")
                self._relaxed = relaxed
        conn.execute("BEGIN IMMEDIATE")
        try:
            for job in jobs:
                if job.future.cancelled():
                    # The caller stopped waiting (a fetch that timed out or was cancelled):
                    # claiming for nobody would only cost the message an attempt.
                    continue
                try:
                    job.result = job.operation(conn)
                    job.error = None
                except Exception as exc:  # the caller's error, raised at its await
                    job.error = exc
                    raise _OperationFailedError from exc
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for listener in self._listeners:
                listener.rolled_back()
            raise
        for listener in self._listeners:
            listener.committed()

    def _hand_back(self, batch: list[_Job[Any]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job[Any]]] = {}
        for job in batch:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop has closed: nobody waits
                loop.call_soon_threadsafe(self._resolve, jobs)

    def _resolve(self, jobs: list[_Job[Any]]) -> None:
        wake = False
        for job in jobs:
            if job.future.done():
                continue  # the caller gave up waiting (cancelled)
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.result)
                wake = wake or job.wakes
        if wake:
            self._on_commit()


class _OperationFailedError(Exception):
    """An operation raised; the batch must be retried job by job."""
