"""``AuditLog``: appends entries with group commit, signs heads, proves, verifies and erases.

Every ``append`` waits until its entry is committed. Appends that arrive while
a batch is being written go into the next batch, in one transaction
(``group_commit.py``): this is what keeps the log above the bus's rate on one
SQLite file. Each batch, in the same transaction, gets a freshly signed tree
head (replacing the previous uncheckpointed one), so no committed entry is ever
outside a signed head.
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

from polestar.audit import reading, writer
from polestar.audit.bases import LegalBasis
from polestar.audit.entry import Actor, AuditEntry, Operation, SubjectRef
from polestar.audit.errors import AuditEntryNotFound, AuditLogCorrupt
from polestar.audit.group_commit import GroupCommit
from polestar.audit.heads import SignedTreeHead
from polestar.audit.intents import DrainReport, IntentDrainer, check_key
from polestar.audit.keys import AuditKeys
from polestar.audit.leaf import (
    AuditRecord,
    Nonces,
    RandomNonces,
    decode_leaf,
    pseudonym,
    subject_key_ids,
)
from polestar.audit.proofs import ConsistencyProof, InclusionProof
from polestar.audit.query import AuditQuery
from polestar.audit.store import AuditStore, AuditTransaction
from polestar.audit.verify import VerifyReport, verify_log
from polestar.audit.witness import Witness
from polestar.audit.writer import AppendReceipt
from polestar.model.timeutil import utcnow

logger = logging.getLogger(__name__)
T = TypeVar("T")


class AuditLog:
    """The tamper-evident s62 log over an ``AuditStore``.

    Args:
        store: where entries, heads and subject keys live.
        keys: the signing key and installation secret (``AuditKeys.load_or_create(data_dir)``).
        witnesses: where checkpoint heads are sent.
        max_batch: the most entries written in one transaction.
        checkpoint_interval: seconds between automatic checkpoints; None for on demand only.
        nonces: source of AES-GCM nonces (tests fix it to check determinism).
        intent_interval: seconds between drains of pending intents (``intents.py``); None for
            on start and on demand only.
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
        intent_interval: float | None = 1.0,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if checkpoint_interval is not None and checkpoint_interval <= 0:
            raise ValueError("checkpoint_interval must be positive (or None)")
        if intent_interval is not None and intent_interval <= 0:
            raise ValueError("intent_interval must be positive (or None)")
        self.store = store
        self.keys = keys
        self.witnesses = list(witnesses)
        self.max_batch = max_batch
        self.checkpoint_interval = checkpoint_interval
        self._nonces: Nonces = nonces or RandomNonces()
        self._batches = writer.BatchWriter(store, keys, self._nonces)
        self.intent_interval = intent_interval
        self._intents = IntentDrainer(store, self.append_many, batch=max_batch)
        self._commits = GroupCommit(self._batches, max_batch)
        self._draining: asyncio.Future[DrainReport] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._public_pem = keys.public_key_pem().decode()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the tables if needed, start the writer and timers, and drain pending intents."""
        if self._commits.accepting:
            return
        await asyncio.to_thread(self.store.create)
        self._commits.start()
        if self.checkpoint_interval is not None:
            self._tasks.append(asyncio.create_task(self._checkpoints(), name="audit-checkpoints"))
        try:
            await self.drain_intents()
        except Exception:
            # A log that refuses appends (AuditLogCorrupt) must still open, to be verified;
            # the intents stay pending and the timer (or the next start) tries again.
            logger.exception("audit intents could not be drained on start")
        if self.intent_interval is not None:
            self._tasks.append(asyncio.create_task(self._drain_intents_often(), name="audit-intents"))

    async def close(self) -> None:
        """Write what is queued, checkpoint, stop and release the store."""
        if not self._commits.accepting:
            return
        self._commits.refuse()
        timers = self._tasks
        for task in timers:
            task.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        # A periodic drain is shielded from that cancel (its worker thread would run on into a
        # closed store): let it finish; what it queued is written before the writer stops.
        draining, self._draining = self._draining, None
        if draining is not None:
            await asyncio.gather(draining, return_exceptions=True)
        await self._commits.finish()
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

    async def append(self, entry: AuditEntry, *, key: str | None = None) -> AppendReceipt:
        """Write one entry; returns once it is committed under a signed head.

        ``key`` is the intent key the entry was promised under (``record_intent``): the entry is
        then written once whoever appends it first, and its pending intent is deleted.
        """
        self._commits.check_accepting()
        return (await self._commits.append([entry], [None if key is None else check_key(key)]))[0]

    async def append_many(
        self, entries: Sequence[AuditEntry], keys: Sequence[str | None] | None = None
    ) -> list[AppendReceipt]:
        """Write entries in order (with their intent keys, if any); returns once all are committed."""
        self._commits.check_accepting()
        if keys is None:
            keys = [None] * len(entries)
        elif len(keys) != len(entries):
            raise ValueError(f"{len(entries)} entries were given with {len(keys)} intent keys")
        return await self._commits.append(entries, [None if k is None else check_key(k) for k in keys])

    def write_batch(self, entries: Sequence[AuditEntry]) -> list[AppendReceipt]:
        """Write ``entries`` in one transaction under a new signed head (blocking; tools, benchmarks)."""
        return self._batches.commit(self._batches.prepare(entries))

    # --- heads and witnesses ----------------------------------------------------------------

    async def latest_head(self) -> SignedTreeHead | None:
        """The latest signed head (None for an empty log)."""
        return await asyncio.to_thread(self._read, reading.latest)

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

    async def drain_intents(self, *, min_age: float = 0.0) -> DrainReport:
        """Append every pending intent recorded at least ``min_age`` seconds ago (see ``intents.py``)."""
        return await self._intents.drain(min_age=min_age)

    async def _drain_intents_often(self) -> None:
        assert self.intent_interval is not None
        while True:
            await asyncio.sleep(self.intent_interval)
            # Leave the newest to the callers that recorded them and are appending now.
            self._draining = asyncio.ensure_future(self.drain_intents(min_age=2 * self.intent_interval))
            try:
                await asyncio.shield(self._draining)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("audit intents could not be drained")

    async def _checkpoints(self) -> None:
        assert self.checkpoint_interval is not None
        while True:
            await asyncio.sleep(self.checkpoint_interval)
            self._batches.clear_caches()
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
        return await asyncio.to_thread(self._read, lambda tx: reading.inclusion(tx, seq, tree_size))

    async def consistency_proof(self, first: int, second: int | None = None) -> ConsistencyProof:
        """Proof that the tree of ``second`` (default: the latest) extends the tree of ``first``."""
        return await asyncio.to_thread(self._read, lambda tx: reading.consistency(tx, first, second))

    # --- reading ---------------------------------------------------------------------------

    async def find(self, query: AuditQuery) -> list[AuditRecord]:
        """Entries matching ``query``, decrypted where keys remain. No access control: see ``AuditReader``."""
        return await asyncio.to_thread(self._read, lambda tx: reading.find(tx, self.keys, query))

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
        await self.drain_intents()  # entries promised before the erasure are written under the old key
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
                destroyed = tx.shred(p, at_us)
            self._batches.forget_subject(p)
            return destroyed

        return receipt, await asyncio.to_thread(shred)
