"""Writing a batch in two stages, so one batch's encryption overlaps the previous batch's commit.

``prepare`` (no lock held) reads the subjects' current keys, makes keys for
subjects new to the log, and encrypts each entry's body; ``commit`` (under the
write lock) checks those keys are still the current ones, re-encrypting the
few entries whose subject was given a key, or erased, by another writer in
between; numbers the entries after the latest signed head; hashes, seals and
inserts them; and signs the new head, all in one transaction. The writer runs
``prepare`` of batch k+1 while batch k's commit waits for the disk.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from polestar.audit.entry import AuditEntry
from polestar.audit.errors import AuditLogCorrupt
from polestar.audit.heads import sign_head
from polestar.audit.keys import AuditKeys
from polestar.audit.leaf import Nonces, SubjectKey, encode_body, make_leaf, pseudonym
from polestar.audit.merkle import CompactRange, leaf_hash
from polestar.audit.store import AuditStore, AuditTransaction, EntryRow


@dataclass(frozen=True, slots=True)
class AppendReceipt:
    """Where an entry went: its sequence number and leaf hash (hex)."""

    seq: int
    leaf_hash: str


@dataclass(slots=True)
class PreparedBatch:
    """Entries with their bodies encrypted, not yet numbered."""

    entries: Sequence[AuditEntry]
    pseudonyms: list[list[bytes]]
    keys: dict[bytes, SubjectKey]
    created: dict[bytes, SubjectKey] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)


def _new_key() -> SubjectKey:
    return SubjectKey(os.urandom(16), os.urandom(32))


def prepare(
    store: AuditStore, keys: AuditKeys, entries: Sequence[AuditEntry], nonces: Nonces
) -> PreparedBatch:
    """Stage one: keys and encrypted bodies, outside the write lock."""
    per_entry = [[pseudonym(keys, s) for s in e.subjects] for e in entries]
    wanted = list(dict.fromkeys(p for ps in per_entry for p in ps))
    active: dict[bytes, SubjectKey] = {}
    if wanted:
        with store.transaction(write=False) as tx:
            active = tx.active_keys(wanted)
    created = {p: _new_key() for p in wanted if p not in active}
    batch = PreparedBatch(entries, per_entry, {**active, **created}, created)
    batch.bodies = [
        encode_body(e, [batch.keys[p] for p in ps], keys, nonces)
        for e, ps in zip(entries, per_entry, strict=True)
    ]
    return batch


def commit(store: AuditStore, keys: AuditKeys, batch: PreparedBatch, nonces: Nonces) -> list[AppendReceipt]:
    """Stage two: number, hash, seal and insert the batch under a freshly signed head."""
    seal_key = keys.seal_key
    with store.transaction(write=True) as tx:
        compact = resume(tx)
        _settle_keys(tx, keys, batch, nonces)
        size = compact.size
        rows: list[EntryRow] = []
        receipts: list[AppendReceipt] = []
        for i, (entry, ps, body) in enumerate(
            zip(batch.entries, batch.pseudonyms, batch.bodies, strict=True)
        ):
            seq = size + i
            leaf = make_leaf(seq, body)
            h = leaf_hash(leaf)
            compact.append(h)
            rows.append(
                EntryRow(
                    seq=seq,
                    leaf=leaf,
                    leaf_hash=h,
                    seal=hmac.digest(seal_key, h, "sha256"),
                    at_us=round(entry.at.timestamp() * 1_000_000),
                    operation=entry.operation.value,
                    actor=entry.actor.identity,
                    device=entry.actor.device,
                    service=entry.service,
                    purpose=entry.purpose,
                    correlation_id=entry.correlation_id,
                    pseudonyms=tuple(dict.fromkeys(ps)),
                )
            )
            receipts.append(AppendReceipt(seq, h.hex()))
        tx.insert(rows)
        tx.put_head(sign_head(keys, compact.size, compact.root()), compact.to_bytes())
    return receipts


def _settle_keys(tx: AuditTransaction, keys: AuditKeys, batch: PreparedBatch, nonces: Nonces) -> None:
    """Make the batch use each subject's current key, as seen under the write lock."""
    if not batch.keys:
        return
    current = tx.active_keys(list(batch.keys))
    stale: set[bytes] = set()
    for p, used in batch.keys.items():
        now = current.get(p)
        if now is not None and now.key_id != used.key_id:
            stale.add(p)  # another writer gave this subject a key first
            batch.keys[p] = now
            batch.created.pop(p, None)
        elif now is None and p not in batch.created:
            stale.add(p)  # erased since stage one: a new appearance gets a new key
            batch.keys[p] = batch.created[p] = _new_key()
    tx.add_keys(list(batch.created.items()))
    if stale:
        for i, (entry, ps) in enumerate(zip(batch.entries, batch.pseudonyms, strict=True)):
            if stale.intersection(ps):
                batch.bodies[i] = encode_body(entry, [batch.keys[p] for p in ps], keys, nonces)


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
