"""Writing a batch in two stages, so one batch's encryption overlaps the previous batch's commit.

``prepare`` (no lock held) finds each subject's key (from a cache of keys this
process has seen, else the store), makes keys for subjects new to the log, and
encrypts each entry's body. ``commit`` numbers the entries after the end of this
process's last commit and hashes, seals and signs them *before* taking the write
lock, then, under it, checks that guess against the latest signed head and the
subjects' keys against the store (re-encrypting the few entries whose subject was
given a key, or erased, by another writer in between, and renumbering if another
process appended meanwhile), inserts the rows and stores the new head, all in one
transaction. The store is always the judge: the caches only save work when they
are right, and every batch is checked against it under the lock.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice

from polestar.audit.entry import AuditEntry, Operation, SubjectRef
from polestar.audit.errors import AuditLogCorrupt
from polestar.audit.heads import SignedTreeHead, sign_head
from polestar.audit.keys import AuditKeys
from polestar.audit.leaf import (
    HEADER,
    LEAF_VERSION,
    Ciphers,
    Nonces,
    RandomNonces,
    SubjectKey,
    encode_body,
    pseudonym,
)
from polestar.audit.merkle import CompactRange
from polestar.audit.seals import Sealer
from polestar.audit.store import AuditStore, AuditTransaction, EntryRow, SubjectRow
from polestar.model.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class AppendReceipt:
    """Where an entry went: its sequence number and leaf hash (hex)."""

    seq: int
    leaf_hash: str


Columns = tuple[int, str, str, str | None, str, str | None, str | None]
"""The readable index columns of an entry: at_us, operation, actor, device, service, purpose, correlation."""


@dataclass(slots=True)
class PreparedBatch:
    """Entries with their bodies encrypted, not yet numbered."""

    entries: list[AuditEntry]
    pseudonyms: list[list[bytes]]
    keys: dict[bytes, SubjectKey]
    created: dict[bytes, SubjectKey] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)
    columns: list[Columns] = field(default_factory=list)
    intent_keys: list[str | None] = field(default_factory=list)
    """Each entry's idempotency key (``intents.py``), or None."""


@dataclass(slots=True)
class NumberedBatch:
    """A prepared batch placed after a given tree: its rows, receipts and signed head."""

    base_size: int
    base_frontier: bytes
    rows: list[EntryRow]
    subjects: list[SubjectRow]
    receipts: list[AppendReceipt]
    end: CompactRange
    head: SignedTreeHead


def _new_key() -> SubjectKey:
    return SubjectKey(os.urandom(16), os.urandom(32))


class BatchWriter:
    """Prepares and commits batches for one ``AuditLog`` (one preparing and one committing thread).

    Args:
        store: where the log lives.
        keys: the installation's keys.
        nonces: the source of AES-GCM nonces.
        cache_size: the most subjects whose key and pseudonym are kept in memory.
    """

    def __init__(
        self, store: AuditStore, keys: AuditKeys, nonces: Nonces, *, cache_size: int = 50_000
    ) -> None:
        self.store = store
        self.keys = keys
        self.nonces = nonces
        self.cache_size = cache_size
        self._lock = threading.Lock()
        self._subject_keys: dict[bytes, SubjectKey] = {}
        self._pseudonyms: dict[str, bytes] = {}
        self._ciphers: Ciphers = {}
        self._tail: CompactRange | None = None  # the tree after this process's last commit
        self._sealer = Sealer(keys.seal_key)

    # --- stage one -------------------------------------------------------------------------

    def prepare(
        self, entries: Sequence[AuditEntry], intent_keys: Sequence[str | None] | None = None
    ) -> PreparedBatch:
        """Keys and encrypted bodies, outside the write lock; ``intent_keys`` as ``PreparedBatch``'s."""
        per_entry = [[self._pseudonym(s) for s in e.subjects] for e in entries]
        wanted = list(dict.fromkeys(p for ps in per_entry for p in ps))
        with self._lock:
            cached = self._subject_keys
            known = {p: cached[p] for p in wanted if p in cached}
        missing = [p for p in wanted if p not in known]
        if missing:
            with self.store.transaction(write=False) as tx:
                known.update(tx.active_keys(missing))
        created = {p: _new_key() for p in wanted if p not in known}
        # Created keys go into the cache at once: the next batch, prepared while this one
        # commits, encrypts with them instead of minting rivals (``_settle_keys`` has the last word).
        self._remember({**known, **created})
        batch = PreparedBatch(list(entries), per_entry, {**known, **created}, created)
        batch.intent_keys = list(intent_keys) if intent_keys is not None else [None] * len(entries)
        ciphers = self._ciphers_for(len(batch.keys))
        keys, nonces = self.keys, self._nonces_for(entries)
        batch_keys = batch.keys
        batch.bodies = [
            encode_body(e, [batch_keys[p] for p in ps], keys, nonces, ciphers)
            for e, ps in zip(entries, per_entry, strict=True)
        ]
        batch.columns = [
            (
                round(e.at.timestamp() * 1_000_000),
                e.operation.value,
                e.actor.identity,
                e.actor.device,
                e.service,
                e.purpose,
                e.correlation_id,
            )
            for e in entries
        ]
        return batch

    # --- stage two -------------------------------------------------------------------------

    def commit(self, batch: PreparedBatch) -> list[AppendReceipt]:
        """Number, hash, seal and insert the batch under a freshly signed head.

        Returns one receipt per entry prepared, in order; an entry whose intent key was
        already appended gets that entry's receipt and is not written again.
        """
        tail = self._tail
        guess = self._number(batch, tail) if tail is not None else None
        keyed = [k for k in batch.intent_keys if k is not None]
        try:
            with self.store.transaction(write=True) as tx:
                compact = resume(tx)
                plan = _drop_appended(tx, batch, keyed) if keyed else None
                reencrypted = self._settle_keys(tx, batch)
                numbered = guess
                if (
                    numbered is None
                    or reencrypted
                    or plan is not None
                    or numbered.base_size != compact.size
                    or numbered.base_frontier != compact.to_bytes()
                ):
                    numbered = self._number(batch, compact)  # another process appended, or keys changed
                if numbered.rows:
                    tx.insert(numbered.rows, numbered.subjects)
                    tx.put_head(numbered.head, numbered.end.to_bytes())
                erased = _promised_erasures(batch)
                for p in erased:
                    tx.shred(p, _now_us())
                if keyed:
                    tx.settle_intents(
                        [(k, r.seq) for k, r in zip(batch.intent_keys, numbered.receipts, strict=True) if k],
                        keyed,
                    )
        except BaseException:
            self._tail = None
            self._forget(batch.created)
            raise
        self._tail = numbered.end
        for p in erased:
            self.forget_subject(p)
        if plan is None:
            return numbered.receipts
        return [p if isinstance(p, AppendReceipt) else numbered.receipts[p] for p in plan]

    def _number(self, batch: PreparedBatch, base: CompactRange) -> NumberedBatch:
        compact = base.copy()
        size = base.size
        seqs = range(size, size + len(batch.bodies))
        pack = HEADER.pack
        sha256 = hashlib.sha256
        leaves = [pack(LEAF_VERSION, seq) + body for seq, body in zip(seqs, batch.bodies, strict=True)]
        hashes = [sha256(b"\x00" + leaf).digest() for leaf in leaves]
        compact.extend(hashes)
        rows: list[EntryRow] = [
            (seq, leaf, h, seal, *columns)
            for seq, leaf, h, seal, columns in zip(
                seqs, leaves, hashes, self._sealer.many(hashes), batch.columns, strict=True
            )
        ]
        subjects: list[SubjectRow] = [
            (p, seq) for seq, ps in zip(seqs, batch.pseudonyms, strict=True) for p in dict.fromkeys(ps)
        ]
        receipts = [AppendReceipt(seq, h.hex()) for seq, h in zip(seqs, hashes, strict=True)]
        head = sign_head(self.keys, compact.size, compact.root())
        return NumberedBatch(size, base.to_bytes(), rows, subjects, receipts, compact, head)

    def _settle_keys(self, tx: AuditTransaction, batch: PreparedBatch) -> bool:
        """Make the batch use each subject's current key, as seen under the write lock.

        Returns True if any body was encrypted again (so its leaf hash changed).
        """
        if not batch.keys:
            return False
        current = tx.active_keys(list(batch.keys))
        stale: set[bytes] = set()
        for p, used in batch.keys.items():
            now = current.get(p)
            if now is not None and now.key_id != used.key_id:
                stale.add(p)  # another writer gave this subject a key first
                batch.keys[p] = now
                batch.created.pop(p, None)
            elif now is None and p not in batch.created:
                stale.add(p)  # erased since stage one (or its key's batch failed): a new key
                batch.keys[p] = batch.created[p] = _new_key()
        tx.add_keys(list(batch.created.items()))
        if stale:
            self._remember({p: batch.keys[p] for p in stale})
            ciphers: Ciphers = {}  # this thread's own: the preparing thread owns the shared one
            for i, (entry, ps) in enumerate(zip(batch.entries, batch.pseudonyms, strict=True)):
                if stale.intersection(ps):
                    keys = [batch.keys[p] for p in ps]
                    batch.bodies[i] = encode_body(entry, keys, self.keys, self.nonces, ciphers)
        return bool(stale)

    # --- caches ----------------------------------------------------------------------------

    def forget_subject(self, pseudonym_: bytes) -> None:
        """Drop a subject's cached key and every cached cipher (after erasing the subject)."""
        with self._lock:
            self._subject_keys.pop(pseudonym_, None)
            self._ciphers = {}

    def clear_caches(self) -> None:
        """Drop every cached key and cipher.

        The log calls this at every checkpoint, so a key erased by another hub process leaves
        this one's memory within a checkpoint interval (it is never used again for an entry
        meanwhile: every batch's keys are checked under the write lock).
        """
        with self._lock:
            self._subject_keys = {}
            self._ciphers = {}
        self._pseudonyms = {}

    def _ciphers_for(self, subjects: int) -> Ciphers:
        # Two contexts per subject (its own key, and the personal key of entries naming only it).
        with self._lock:
            if len(self._ciphers) + 2 * subjects > 2 * self.cache_size:
                self._ciphers = {}
            return self._ciphers

    def _nonces_for(self, entries: Sequence[AuditEntry]) -> Nonces:
        if not isinstance(self.nonces, RandomNonces):
            return self.nonces  # a caller's own source (tests fix it)
        wanted = sum(len(e.subjects) + (e.query is not None or bool(e.details)) for e in entries)
        return self.nonces.block(wanted)

    def _pseudonym(self, subject: SubjectRef) -> bytes:
        canonical = subject.canonical
        found = self._pseudonyms.get(canonical)
        if found is None:
            found = pseudonym(self.keys, subject)
            if len(self._pseudonyms) >= self.cache_size:
                self._pseudonyms.clear()
            self._pseudonyms[canonical] = found
        return found

    def _remember(self, found: dict[bytes, SubjectKey]) -> None:
        with self._lock:
            cache = self._subject_keys
            if len(cache) + len(found) > self.cache_size:
                for p in list(islice(cache, len(cache) // 2)):  # the oldest half
                    del cache[p]
            cache.update(found)

    def _forget(self, created: dict[bytes, SubjectKey]) -> None:
        with self._lock:
            cache = self._subject_keys
            for p, key in created.items():
                if cache.get(p) == key:
                    del cache[p]


def _drop_appended(
    tx: AuditTransaction, batch: PreparedBatch, keyed: list[str]
) -> list[int | AppendReceipt] | None:
    """Take out of ``batch`` every entry whose intent key is already in the log (or earlier in the batch).

    Returns None if nothing was taken out, else, for each entry as prepared, either the
    receipt of the entry already appended or its position among the entries kept.
    """
    done = tx.appended(keyed)
    first: dict[str, int] = {}
    plan: list[int | AppendReceipt] = []
    keep: list[int] = []
    for i, key in enumerate(batch.intent_keys):
        if key is not None and key in done:
            seq, h = done[key]
            plan.append(AppendReceipt(seq, h.hex()))
        elif key is not None and key in first:
            plan.append(first[key])  # the same promise twice in one batch: written once
        else:
            if key is not None:
                first[key] = len(keep)
            plan.append(len(keep))
            keep.append(i)
    if len(keep) == len(batch.entries):
        return None
    batch.entries = [batch.entries[i] for i in keep]
    batch.pseudonyms = [batch.pseudonyms[i] for i in keep]
    batch.bodies = [batch.bodies[i] for i in keep]
    batch.columns = [batch.columns[i] for i in keep]
    batch.intent_keys = [batch.intent_keys[i] for i in keep]
    return plan


def _promised_erasures(batch: PreparedBatch) -> list[bytes]:
    """The subjects of the erasure entries in ``batch`` that were promised under an intent key.

    Their keys are destroyed in the transaction that writes the entry, so the erasure is logged
    and takes effect together, even if the process dies the moment after (``intents.py``).
    """
    found: dict[bytes, None] = {}
    for entry, ps, key in zip(batch.entries, batch.pseudonyms, batch.intent_keys, strict=True):
        if key is not None and entry.operation is Operation.ERASURE:
            found.update(dict.fromkeys(ps))
    return list(found)


def _now_us() -> int:
    return round(utcnow().timestamp() * 1_000_000)


def resume(tx: AuditTransaction) -> CompactRange:
    """The compact range to append after, checked against the latest head and the table."""
    latest = tx.latest_head()
    if latest is None:
        compact = CompactRange()
    else:
        try:
            compact = CompactRange.from_bytes(latest.head.tree_size, latest.frontier)
            intact = compact.root() == latest.head.root
        except ValueError:
            intact = False
        if not intact:
            raise AuditLogCorrupt(
                f"the stored state of the latest signed head (size {latest.head.tree_size}) was altered; "
                "appends are stopped: run `polestar audit verify`"
            )
    stray = tx.first_seq_from(compact.size)
    if stray is not None:
        raise AuditLogCorrupt(
            f"entry {stray} is past the latest signed head (size {compact.size}): it was added outside "
            "the hub; appends are stopped: run `polestar audit verify`"
        )
    return compact
