"""The audit log's storage seam: one small synchronous Protocol, SQLite and PostgreSQL behind it.

The log calls a store from worker threads, one transaction at a time per call:
``transaction(write=True)`` is exclusive among writers (every hub process of a
cluster), ``transaction(write=False)`` is a consistent snapshot, so ``verify``
sees the entries and heads of one moment while appends go on.

Rows are what the tables hold; nothing here knows how leaves are built.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from polestar.audit.heads import SignedTreeHead
from polestar.audit.leaf import SubjectKey
from polestar.audit.query import AuditQuery

LeafRow = tuple[int, bytes, bytes, bytes]
"""``(seq, leaf, leaf_hash, seal)`` as stored."""


EntryRow = tuple[int, bytes, bytes, bytes, int, str, str, str | None, str, str | None, str | None]
"""One entry as stored, in the table's column order: ``(seq, leaf, leaf_hash, seal, at_us,
operation, actor, device, service, purpose, correlation_id)``. A plain tuple, because the
writer builds one per entry on its hot path and the drivers take it as it is."""

SubjectRow = tuple[bytes, int]
"""``(pseudonym, seq)``: one row of the subject index."""


@dataclass(frozen=True, slots=True)
class StoredHead:
    """A signed head and the compact range (frontier) at its size, to resume appending from."""

    head: SignedTreeHead
    frontier: bytes


class AuditTransaction(Protocol):
    """What the log does inside one transaction."""

    def latest_head(self) -> StoredHead | None:
        """The head with the largest tree size."""
        ...

    def heads(self) -> list[SignedTreeHead]:
        """Every stored head, smallest tree first."""
        ...

    def first_seq_from(self, seq: int) -> int | None:
        """The lowest stored sequence number >= ``seq``, if any."""
        ...

    def count(self) -> int:
        """Entries stored."""
        ...

    def insert(self, rows: Sequence[EntryRow], subjects: Sequence[SubjectRow]) -> None:
        """Add entries and their subject index rows."""
        ...

    def put_head(self, head: SignedTreeHead, frontier: bytes) -> None:
        """Store ``head``; drop earlier heads that are not checkpoints."""
        ...

    def mark_checkpoint(self, tree_size: int) -> None:
        """Keep the head at ``tree_size`` for good."""
        ...

    def active_keys(self, pseudonyms: Sequence[bytes]) -> dict[bytes, SubjectKey]:
        """The current key of each subject that has one."""
        ...

    def add_keys(self, keys: Sequence[tuple[bytes, SubjectKey]]) -> None:
        """Store new subject keys, as ``(pseudonym, key)``."""
        ...

    def keys_by_id(self, key_ids: Sequence[bytes]) -> dict[bytes, bytes | None]:
        """Keys by id; an erased key maps to None."""
        ...

    def shred(self, pseudonym: bytes, at_us: int) -> int:
        """Destroy the subject's keys and its index rows; returns the keys destroyed."""
        ...

    def leaves(self, end: int, chunk: int) -> Iterator[Sequence[LeafRow]]:
        """Every stored entry with ``seq < end`` in order of ``seq`` (and of nothing else), in chunks."""
        ...

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Stored leaf hashes of ``start <= seq < end``, in order."""
        ...

    def entry(self, seq: int) -> tuple[bytes, bytes] | None:
        """``(leaf, leaf_hash)`` of one entry."""
        ...

    def find(self, query: AuditQuery, pseudonym: bytes | None) -> list[tuple[int, bytes, bytes]]:
        """``(seq, leaf, leaf_hash)`` of entries matching the index columns, oldest first."""
        ...

    def appended(self, keys: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """``key -> (seq, leaf_hash)`` of entries already appended under any of ``keys``."""
        ...

    def settle_intents(self, appended: Sequence[tuple[str, int]], done: Sequence[str]) -> None:
        """Record ``(key, seq)`` of entries just appended; drop the intents of the ``done`` keys."""
        ...

    def pending_intents(self, limit: int, created_before_us: int) -> list[tuple[str, str]]:
        """``(key, entry JSON)`` of intents neither appended nor set aside, oldest first."""
        ...

    def mark_intent(self, key: str, problem: str) -> None:
        """Set an intent aside with the reason it cannot be appended."""
        ...


class AuditStore(Protocol):
    """Where the log lives: SQLite in the embedded profile, PostgreSQL in a cluster."""

    def create(self) -> None:
        """Create the tables if missing."""
        ...

    def transaction(self, *, write: bool) -> AbstractContextManager[AuditTransaction]:
        """A transaction: exclusive among writers if ``write``, else a consistent snapshot."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
