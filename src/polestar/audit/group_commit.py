"""Group commit for ``AuditLog``: queued appends become batches, one encrypting while another commits.

Every append waits until its entry is committed. Appends that arrive while a
batch is being written go into the next batch, in one transaction; each batch
goes through ``writer.BatchWriter``'s two stages in worker threads, so the event
loop only queues entries. Stage one of batch k+1 (encrypting) runs while stage
two of batch k (commit) waits for the disk; stage two runs strictly in order, so
sequence numbers follow the queue.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from polestar.audit import writer
from polestar.audit.entry import AuditEntry, Operation
from polestar.audit.writer import AppendReceipt

_MIN_SPLIT = 64
"""Batches are not split below this many entries: each commit costs a disk flush."""

_Pending = tuple[list[AuditEntry], list[str | None], "asyncio.Future[list[AppendReceipt]]"]


class GroupCommit:
    """The queue of appends and the task that writes it in batches of at most ``max_batch``.

    Args:
        batches: writes one batch in two stages (``prepare``, then ``commit``).
        max_batch: the most entries written in one transaction.
    """

    def __init__(self, batches: writer.BatchWriter, max_batch: int) -> None:
        self._batches = batches
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | None] | None = None  # None: appends are refused
        self._task: asyncio.Task[None] | None = None
        self._queued = 0  # entries waiting in the queue
        self._stopping: tuple[asyncio.Queue[_Pending | None], asyncio.Task[None]] | None = None

    @property
    def accepting(self) -> bool:
        """True between ``start`` and ``refuse``."""
        return self._queue is not None

    def start(self) -> None:
        """Start the writing task; appends are taken from now on."""
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._writer(self._queue), name="audit-writer")

    def check_accepting(self) -> None:
        """Raise ``RuntimeError`` unless appends are taken (between ``start`` and ``refuse``)."""
        self._intake()

    def refuse(self) -> None:
        """Refuse new appends from now on; what is queued is still written (``finish``)."""
        if self._queue is not None and self._task is not None:
            self._stopping = (self._queue, self._task)
        self._queue = self._task = None

    async def finish(self) -> None:
        """Write what was queued before ``refuse``, then stop the writing task."""
        if self._stopping is not None:
            (queue, task), self._stopping = self._stopping, None
            await queue.put(None)
            await task

    def _intake(self) -> asyncio.Queue[_Pending | None]:
        if self._queue is None:
            raise RuntimeError("the audit log is not started (call start())")
        return self._queue

    async def append(self, entries: Sequence[AuditEntry], keys: Sequence[str | None]) -> list[AppendReceipt]:
        """Write entries in order with their (checked) intent keys; returns once all are committed.

        More than ``max_batch`` entries are queued as several batches, written one after another.
        """
        queue = self._intake()
        loop = asyncio.get_running_loop()
        futures = []
        for start in range(0, len(entries), self.max_batch):
            future: asyncio.Future[list[AppendReceipt]] = loop.create_future()
            end = start + self.max_batch
            queue.put_nowait((list(entries[start:end]), list(keys[start:end]), future))
            self._queued += len(entries[start:end])
            futures.append(future)
        receipts: list[AppendReceipt] = []
        for future in futures:
            receipts.extend(await future)
        return receipts

    async def _writer(self, queue: asyncio.Queue[_Pending | None]) -> None:
        # A batch takes at most half of what is waiting or committing: callers who wait for
        # their commit before appending again then form two batches, one encrypting while the
        # other commits, instead of one batch that does both in turn.
        committing: asyncio.Task[None] | None = None
        in_commit = 0
        stopping = False
        while not stopping:
            item = await queue.get()
            if item is None:
                break
            batch = [item]
            count = len(item[0])
            self._queued -= count
            if committing is None or committing.done():
                in_commit = 0
            limit = min(self.max_batch, max(_MIN_SPLIT, (count + self._queued + in_commit + 1) // 2))
            while count < limit and not queue.empty() and not _ends_batch(batch[-1]):
                more = queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
                count += len(more[0])
                self._queued -= len(more[0])
            entries = [e for chunk, _, _ in batch for e in chunk]
            intent_keys = [k for _, chunk, _ in batch for k in chunk]
            try:
                prepared = await asyncio.to_thread(self._batches.prepare, entries, intent_keys)
            except Exception as exc:  # noqa: BLE001 - handed to every waiting caller, not swallowed
                _fail(batch, exc)
                continue
            if committing is not None:
                await committing
            committing = asyncio.create_task(self._commit(batch, prepared))
            in_commit = count
        if committing is not None:
            await committing

    async def _commit(self, batch: list[_Pending], prepared: writer.PreparedBatch) -> None:
        try:
            receipts = await asyncio.to_thread(self._batches.commit, prepared)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting caller, not swallowed
            _fail(batch, exc)
            return
        offset = 0
        for chunk, _, future in batch:
            if not future.done():
                future.set_result(receipts[offset : offset + len(chunk)])
            offset += len(chunk)


def _ends_batch(item: _Pending) -> bool:
    # A promised erasure destroys keys as it commits: nothing queued after it joins its batch.
    entries, keys, _ = item
    return bool(keys) and keys[-1] is not None and entries[-1].operation is Operation.ERASURE


def _fail(batch: list[_Pending], exc: Exception) -> None:
    for _, _, future in batch:
        if not future.done():
            future.set_exception(exc)
