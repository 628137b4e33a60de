"""``AuditLog``: appends entries with group commit, signs heads, proves, verifies and erases.

Every ``append`` waits until its entry is committed. Appends that arrive while
a batch is being written go into the next batch, in one transaction: this is
what keeps the log above the bus's rate on one SQLite file. Each batch, in the
same transaction, gets a freshly signed tree head (replacing the previous
uncheckpointed one), so no committed entry is ever outside a signed head.
``checkpoint()`` (periodically, and on demand) keeps the latest head for good
and sends it to the witnesses.

The database work runs in worker threads; the event loop only queues entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from polestar.audit import writer
from polestar.audit.bases import LegalBasis
from polestar.audit.entry import Actor, AuditEntry, Operation, SubjectRef
from polestar.audit.errors import AuditEntryNotFound, AuditLogCorrupt
from polestar.audit.heads import SignedTreeHead
from polestar.audit.keys import AuditKeys
from polestar.audit.leaf import (
    AuditRecord,
    Nonces,
    RandomNonces,
    decode_leaf,
    pseudonym,
    subject_key_ids,
)
from polestar.audit.merkle import SubtreeHasher, consistency_path, inclusion_path
from polestar.audit.proofs import ConsistencyProof, InclusionProof
from polestar.audit.query import AuditQuery
from polestar.audit.store import AuditStore, AuditTransaction
from polestar.audit.verify import VerifyReport, verify_log
from polestar.audit.witness import Witness
from polestar.audit.writer import AppendReceipt
from polestar.model.timeutil import utcnow

logger = logging.getLogger(__name__)
T = TypeVar("T")


_Pending = tuple[list[AuditEntry], "asyncio.Future[list[AppendReceipt]]"]


class AuditLog:
    """The tamper-evident s62 log over an ``AuditStore``.

    Args:
        store: where entries, heads and subject keys live.
        keys: the signing key and installation secret (``AuditKeys.load_or_create(data_dir)``).
        witnesses: where checkpoint heads are sent.
        max_batch: the most entries written in one transaction.
        checkpoint_interval: seconds between automatic checkpoints; None for on demand only.
        nonces: source of AES-GCM nonces (tests fix it to check determinism).
    """

    def __init__(
        self,
        store: AuditStore,
        keys: AuditKeys,
        *,
        witnesses: Sequence[Witness] = (),
        max_batch: int = 2000,
        checkpoint_interval: float | None = 60.0,
        nonces: Nonces | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if checkpoint_interval is not None and checkpoint_interval <= 0:
            raise ValueError("checkpoint_interval must be positive (or None)")
        self.store = store
        self.keys = keys
        self.witnesses = list(witnesses)
        self.max_batch = max_batch
        self.checkpoint_interval = checkpoint_interval
        self._nonces: Nonces = nonces or RandomNonces()
        self._queue: asyncio.Queue[_Pending | None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._public_pem = keys.public_key_pem().decode()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the tables if needed and start the writer (and the checkpoint timer)."""
        if self._queue is not None:
            return
        await asyncio.to_thread(self.store.create)
        self._queue = asyncio.Queue()
        self._tasks.append(asyncio.create_task(self._writer(self._queue), name="audit-writer"))
        if self.checkpoint_interval is not None:
            self._tasks.append(asyncio.create_task(self._checkpoints(), name="audit-checkpoints"))

    async def close(self) -> None:
        """Write what is queued, checkpoint, stop and release the store."""
        if self._queue is None:
            return
        queue, self._queue = self._queue, None
        await queue.put(None)
        writer, *timers = self._tasks
        for task in timers:
            task.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        await writer
        self._tasks.clear()
        with contextlib.suppress(AuditLogCorrupt):
            await self._checkpoint_and_publish()
        await asyncio.to_thread(self.store.close)

    async def __aenter__(self) -> AuditLog:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # --- appending -------------------------------------------------------------------------

    async def append(self, entry: AuditEntry) -> AppendReceipt:
        """Write one entry; returns once it is committed under a signed head."""
        if self._queue is None:
            raise RuntimeError("the audit log is not started (call start())")
        future: asyncio.Future[list[AppendReceipt]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(([entry], future))
        return (await future)[0]

    async def append_many(self, entries: Sequence[AuditEntry]) -> list[AppendReceipt]:
        """Write entries in order; returns once all are committed."""
        if self._queue is None:
            raise RuntimeError("the audit log is not started (call start())")
        loop = asyncio.get_running_loop()
        futures = []
        for start in range(0, len(entries), self.max_batch):
            future: asyncio.Future[list[AppendReceipt]] = loop.create_future()
            self._queue.put_nowait((list(entries[start : start + self.max_batch]), future))
            futures.append(future)
        receipts: list[AppendReceipt] = []
        for future in futures:
            receipts.extend(await future)
        return receipts

    async def _writer(self, queue: asyncio.Queue[_Pending | None]) -> None:
        # Stage one of batch k+1 (encrypting) runs while stage two of batch k (commit) waits for
        # the disk; stage two runs strictly in order, so sequence numbers follow the queue.
        committing: asyncio.Task[None] | None = None
        stopping = False
        while not stopping:
            item = await queue.get()
            if item is None:
                break
            batch = [item]
            count = len(item[0])
            while count < self.max_batch and not queue.empty():
                more = queue.get_nowait()
                if more is None:
                    stopping = True
                    break
                batch.append(more)
                count += len(more[0])
            entries = [e for chunk, _ in batch for e in chunk]
            try:
                prepared = await asyncio.to_thread(
                    writer.prepare, self.store, self.keys, entries, self._nonces
                )
            except Exception as exc:  # noqa: BLE001 - handed to every waiting caller, not swallowed
                _fail(batch, exc)
                continue
            if committing is not None:
                await committing
            committing = asyncio.create_task(self._commit(batch, prepared))
        if committing is not None:
            await committing

    async def _commit(self, batch: list[_Pending], prepared: writer.PreparedBatch) -> None:
        try:
            receipts = await asyncio.to_thread(writer.commit, self.store, self.keys, prepared, self._nonces)
        except Exception as exc:  # noqa: BLE001 - handed to every waiting caller, not swallowed
            _fail(batch, exc)
            return
        offset = 0
        for chunk, future in batch:
            if not future.done():
                future.set_result(receipts[offset : offset + len(chunk)])
            offset += len(chunk)

    def write_batch(self, entries: Sequence[AuditEntry]) -> list[AppendReceipt]:
        """Write ``entries`` in one transaction under a new signed head (blocking; tools, benchmarks)."""
        prepared = writer.prepare(self.store, self.keys, entries, self._nonces)
        return writer.commit(self.store, self.keys, prepared, self._nonces)

    # --- heads and witnesses ----------------------------------------------------------------

    async def latest_head(self) -> SignedTreeHead | None:
        """The latest signed head (None for an empty log)."""
        return await asyncio.to_thread(self._read, _latest)

    async def heads(self) -> list[SignedTreeHead]:
        """Every stored head: the checkpoints and the latest."""
        return await asyncio.to_thread(self._read, lambda tx: tx.heads())

    async def checkpoint(self) -> SignedTreeHead | None:
        """Keep the latest head for good and send it to every witness; returns it."""
        return await self._checkpoint_and_publish()

    async def _checkpoint_and_publish(self) -> SignedTreeHead | None:
        head, fresh = await asyncio.to_thread(self._mark_checkpoint)
        if head is not None and fresh:
            for witness in self.witnesses:
                try:
                    await witness.publish(head, self._public_pem)
                except Exception:
                    logger.exception(
                        "audit witness %r did not take the head at size %d", witness, head.tree_size
                    )
        return head

    def _mark_checkpoint(self) -> tuple[SignedTreeHead | None, bool]:
        with self.store.transaction(write=True) as tx:
            latest = tx.latest_head()
            if latest is None:
                return None, False
            if latest.head.checkpoint:
                return latest.head, False
            tx.mark_checkpoint(latest.head.tree_size)
            return latest.head.model_copy(update={"checkpoint": True}), True

    async def _checkpoints(self) -> None:
        assert self.checkpoint_interval is not None
        while True:
            await asyncio.sleep(self.checkpoint_interval)
            try:
                await self._checkpoint_and_publish()
            except Exception:
                logger.exception("audit checkpoint failed")

    def public_key_pem(self) -> str:
        """The PEM public key heads are verified with."""
        return self._public_pem

    # --- verification and proofs -------------------------------------------------------------

    async def verify(self, *, check_seals: bool = True) -> VerifyReport:
        """Check every entry and head (see ``polestar.audit.verify``)."""
        keys = self.keys
        seal = keys.seal_key if check_seals else None
        return await asyncio.to_thread(
            self._read, lambda tx: verify_log(tx, keys.public_key, keys.log_id, seal)
        )

    async def inclusion_proof(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """Proof that entry ``seq`` is in the tree of ``tree_size`` (default: the latest head)."""
        return await asyncio.to_thread(self._read, lambda tx: _inclusion(tx, seq, tree_size))

    async def consistency_proof(self, first: int, second: int | None = None) -> ConsistencyProof:
        """Proof that the tree of ``second`` (default: the latest) extends the tree of ``first``."""

        def work(tx: AuditTransaction) -> ConsistencyProof:
            end = _size(tx, second)
            if not 0 <= first <= end:
                raise AuditEntryNotFound(f"no tree of size {first} before size {end}")
            hasher = SubtreeHasher(tx.leaf_hashes(0, end))
            return ConsistencyProof(
                first=first,
                second=end,
                first_root=hasher(0, first).hex(),
                second_root=hasher(0, end).hex(),
                path=[h.hex() for h in consistency_path(first, end, hasher)],
            )

        return await asyncio.to_thread(self._read, work)

    # --- reading ---------------------------------------------------------------------------

    async def find(self, query: AuditQuery) -> list[AuditRecord]:
        """Entries matching ``query``, decrypted where keys remain. No access control: see ``AuditReader``."""
        return await asyncio.to_thread(self._read, lambda tx: _find(tx, self.keys, query))

    async def record(self, seq: int) -> AuditRecord:
        """One entry, decrypted where keys remain."""

        def work(tx: AuditTransaction) -> AuditRecord:
            found = tx.entry(seq)
            if found is None:
                raise AuditEntryNotFound(f"there is no audit entry {seq}")
            leaf, h = found
            return decode_leaf(leaf, h.hex(), tx.keys_by_id(subject_key_ids(leaf)), self.keys)

        return await asyncio.to_thread(self._read, work)

    def _read(self, work: Callable[[AuditTransaction], T]) -> T:
        with self.store.transaction(write=False) as tx:
            return work(tx)

    # --- erasure ---------------------------------------------------------------------------

    async def erase_subject(
        self,
        subject: SubjectRef,
        *,
        actor: Actor,
        service: str,
        record_ids: Sequence[str] = (),
        purpose: str | None = None,
        correlation_id: str | None = None,
    ) -> tuple[AppendReceipt, int]:
        """Log the erasure (who, which records, when), then destroy the subject's keys.

        Every earlier entry about the subject still verifies, but its identifier, query
        text and details can no longer be read, and it no longer appears in subject queries.
        Returns the erasure entry's receipt and the number of keys destroyed.
        """
        receipt = await self.append(
            AuditEntry(
                operation=Operation.ERASURE,
                actor=actor,
                service=service,
                subjects=[subject],
                record_ids=list(record_ids),
                purpose=purpose,
                legal_basis=LegalBasis.DATA_SUBJECT_RIGHTS,
                correlation_id=correlation_id,
            )
        )
        p = pseudonym(self.keys, subject)
        at_us = round(utcnow().timestamp() * 1_000_000)

        def shred() -> int:
            with self.store.transaction(write=True) as tx:
                return tx.shred(p, at_us)

        return receipt, await asyncio.to_thread(shred)


def _fail(batch: list[_Pending], exc: Exception) -> None:
    for _, future in batch:
        if not future.done():
            future.set_exception(exc)


def _latest(tx: AuditTransaction) -> SignedTreeHead | None:
    found = tx.latest_head()
    return None if found is None else found.head


def _size(tx: AuditTransaction, tree_size: int | None) -> int:
    latest = _latest(tx)
    end = latest.tree_size if latest is not None else 0
    if tree_size is None:
        return end
    if not 0 <= tree_size <= end:
        raise AuditEntryNotFound(f"the log has no tree of size {tree_size} (the latest signed size is {end})")
    return tree_size


def _inclusion(tx: AuditTransaction, seq: int, tree_size: int | None) -> InclusionProof:
    size = _size(tx, tree_size)
    if not 0 <= seq < size:
        raise AuditEntryNotFound(f"there is no audit entry {seq} in the tree of size {size}")
    hashes = tx.leaf_hashes(0, size)
    hasher = SubtreeHasher(hashes)
    return InclusionProof(
        seq=seq,
        tree_size=size,
        leaf_hash=hashes[seq].hex(),
        root_hash=hasher(0, size).hex(),
        path=[h.hex() for h in inclusion_path(seq, size, hasher)],
    )


def _find(tx: AuditTransaction, keys: AuditKeys, query: AuditQuery) -> list[AuditRecord]:
    wanted = pseudonym(keys, query.subject) if query.subject is not None else None
    rows = tx.find(query, wanted)
    key_ids = [k for _, leaf, _ in rows for k in subject_key_ids(leaf)]
    subject_keys = tx.keys_by_id(key_ids)
    records = [decode_leaf(leaf, h.hex(), subject_keys, keys) for _, leaf, h in rows]
    if query.subject is not None:
        # The subject index is not covered by the tree: keep only entries whose own leaf names them.
        target = query.subject.canonical
        records = [
            r
            for r in records
            if any(
                s.value is not None and SubjectRef(type=s.type, value=s.value).canonical == target
                for s in r.subjects
            )
        ]
    return records
