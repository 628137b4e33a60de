"""The store contract: what both engines promise (``SqliteStore``, ``PostgresStore``).

One contract suite (``tests/integration/store/``) runs against both.

* ``apply`` is idempotent by envelope id, recorded in the same transaction as
  the write (``apply_many``: a batch in one transaction). A version older than
  the stored one is kept as its source's claim and never overwrites; a newer
  one becomes current, field by field by the provenance rule
  (``polestar.store.provenance``), with a history entry naming the changed
  fields, the actor and the message.
* Reads resolve merged ids to their survivor; ``history`` and ``provenance``
  are of exactly the record named.
* ``merge`` and ``unmerge`` are reversible and change no document or link.
* ``erase_subject`` deletes every row ``rows_for_subject`` lists, calls every
  erasure hook, and reports ids and counts (never content) to ``on_erasure``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Protocol

from polestar.model.common import Entity
from polestar.model.envelope import Envelope
from polestar.model.marking import ProtectiveMarking
from polestar.store.records import (
    ApplyResult,
    ErasureSummary,
    FieldClaim,
    HistoryEntry,
    MergeRecord,
    StoredEntity,
    StoredLink,
    SubjectRow,
    Traversal,
)

ErasureCallback = Callable[[ErasureSummary], Awaitable[None]]
"""Told of every erasure once the store's rows are gone (the audit log records it, without content)."""

MergeCallback = Callable[[MergeRecord], Awaitable[None]]
"""Told of every merge and unmerge once committed (the audit log records a combination)."""


class Store(Protocol):
    """POLE entities and links with history, provenance, merges and erasure. Constructors do no I/O."""

    async def start(self) -> None:
        """Connect and bring the tables up to date (runs the migrations)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...

    async def apply(self, envelope: Envelope) -> ApplyResult:
        """Create or update the entity or link an event carries; ``NotAnEntity`` if it carries none."""
        ...

    async def apply_many(self, events: Sequence[tuple[Envelope, Entity]]) -> list[ApplyResult]:
        """``apply`` for each ``(envelope, entity_of(envelope))`` in one transaction: all or none."""
        ...

    async def get(self, entity_id: str, *, clearance: ProtectiveMarking | None = None) -> StoredEntity | None:
        """The current record (its survivor if merged); None if absent or above ``clearance``."""
        ...

    async def history(self, entity_id: str) -> list[HistoryEntry]:
        """Every alteration of this record, oldest first."""
        ...

    async def provenance(self, entity_id: str) -> list[FieldClaim]:
        """Each source's claim for each field, the chosen ones marked ``current``."""
        ...

    async def links(
        self,
        entity_id: str,
        roles: Collection[str] | None = None,
        *,
        clearance: ProtectiveMarking | None = None,
    ) -> list[StoredLink]:
        """Links touching this record (and records merged with it), optionally of some roles only."""
        ...

    async def traverse(
        self,
        entity_id: str,
        hops: int = 2,
        roles: Collection[str] | None = None,
        *,
        clearance: ProtectiveMarking | None = None,
        limit: int = 500,
    ) -> Traversal:
        """Associates within ``hops`` links (at most ``MAX_HOPS``), nearest first, at most ``limit``."""
        ...

    async def merge(self, survivor_id: str, other_id: str, *, actor: str, reason: str) -> MergeRecord:
        """Fold ``other_id`` into ``survivor_id``; ``MergeRefused`` or ``EntityNotFound`` if it cannot."""
        ...

    async def unmerge(self, merge_id: str, *, actor: str, reason: str) -> MergeRecord:
        """Undo a merge: both records stand alone again with their own links."""
        ...

    async def merges(self, entity_id: str) -> list[MergeRecord]:
        """Every merge this record took part in, either side."""
        ...

    async def rows_for_subject(self, subject_id: str) -> list[SubjectRow]:
        """The erasure map: every row, in the store and in every erasure hook, holding the subject's data."""
        ...

    async def erase_subject(self, subject_id: str, *, actor: str, reason: str) -> ErasureSummary:
        """Delete all of it; ``ErasureIncomplete`` if a hook failed (then ``finish_erasure``)."""
        ...

    async def finish_erasure(self, summary: ErasureSummary) -> ErasureSummary:
        """Run the erasure hooks that have not yet succeeded for an erasure's records."""
        ...
