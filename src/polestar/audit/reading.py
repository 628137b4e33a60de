"""Reading the log inside one snapshot: the latest head, proofs and queries (used by ``AuditLog``)."""

from __future__ import annotations

from polestar.audit.entry import SubjectRef
from polestar.audit.errors import AuditEntryNotFound
from polestar.audit.heads import SignedTreeHead
from polestar.audit.keys import AuditKeys
from polestar.audit.leaf import AuditRecord, decode_leaf, pseudonym, subject_key_ids
from polestar.audit.merkle import SubtreeHasher, consistency_path, inclusion_path
from polestar.audit.proofs import ConsistencyProof, InclusionProof
from polestar.audit.query import AuditQuery
from polestar.audit.store import AuditTransaction


def latest(tx: AuditTransaction) -> SignedTreeHead | None:
    """The latest signed head, or None for an empty log."""
    found = tx.latest_head()
    return None if found is None else found.head


def tree_size(tx: AuditTransaction, wanted: int | None) -> int:
    """``wanted`` if the log has a signed tree of that size (default: the latest size)."""
    head = latest(tx)
    end = head.tree_size if head is not None else 0
    if wanted is None:
        return end
    if not 0 <= wanted <= end:
        raise AuditEntryNotFound(f"the log has no tree of size {wanted} (the latest signed size is {end})")
    return wanted


def inclusion(tx: AuditTransaction, seq: int, size_wanted: int | None) -> InclusionProof:
    """Proof that entry ``seq`` is in the tree of ``size_wanted`` (default: the latest)."""
    size = tree_size(tx, size_wanted)
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


def find(tx: AuditTransaction, keys: AuditKeys, query: AuditQuery) -> list[AuditRecord]:
    """Entries matching ``query``, decrypted where keys remain, re-checked against their leaves."""
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


def consistency(tx: AuditTransaction, first: int, second: int | None) -> ConsistencyProof:
    """Proof that the tree of ``second`` (default: the latest) extends the tree of ``first``."""
    end = tree_size(tx, second)
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
