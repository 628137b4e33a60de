"""What the store hands back: plain frozen records, no database types in sight."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What ``Store.apply`` did with one event."""

    CREATED = "created"
    """A new entity (or link)."""
    UPDATED = "updated"
    """A newer version: the current document and the history moved on."""
    UNCHANGED = "unchanged"
    """The same version again, nothing different: only its provenance was noted."""
    STALE = "stale"
    """An older version than stored: kept as its source's claim, the current document untouched."""
    DUPLICATE = "duplicate"
    """This envelope id was applied before: nothing at all was written."""


class Operation(StrEnum):
    """The kinds of alteration the history records."""

    CREATED = "created"
    UPDATED = "updated"
    MERGED = "merged"
    UNMERGED = "unmerged"


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The outcome of applying one event."""

    outcome: Outcome
    entity_id: str
    kind: str
    version: int
    changed_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoredEntity:
    """An entity as the store holds it now.

    ``id`` is the surviving record when ``requested_id`` was merged into it;
    ``merged_ids`` lists every record merged into this one (directly or not).
    """

    id: str
    kind: str
    version: int
    document: dict[str, Any]
    marking: str
    created_at: datetime
    updated_at: datetime
    requested_id: str
    merged_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One alteration: what the document became, which fields changed, who, when, from which message."""

    entity_id: str
    seq: int
    version: int
    operation: Operation
    document: dict[str, Any]
    changed_fields: tuple[str, ...]
    actor: str | None
    message_id: str | None
    correlation_id: str | None
    reason: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class FieldClaim:
    """The value one source system last gave for one field; ``current`` if it is the value chosen."""

    entity_id: str
    path: str
    system: str
    value: Any
    organisation: str
    reference: str | None
    observed_at: datetime
    recorded_at: datetime
    version: int
    marking: str
    message_id: str | None
    current: bool = False


@dataclass(frozen=True, slots=True)
class StoredLink:
    """A link with its ends resolved through merges; ``named_*`` are the ids the link itself carries."""

    id: str
    role: str
    from_kind: str
    from_id: str
    to_kind: str
    to_id: str
    valid_from: datetime | None
    valid_to: datetime | None
    marking: str
    system: str
    named_from_id: str
    named_to_id: str


@dataclass(frozen=True, slots=True)
class Associate:
    """An entity reached by traversal: how far, and the link it was reached through."""

    entity_id: str
    kind: str
    depth: int
    via_link: str
    role: str
    reached_from: str


@dataclass(frozen=True, slots=True)
class Traversal:
    """Associates within N hops of ``root``, nearest first; ``truncated`` if the limit cut it short."""

    root: str
    associates: tuple[Associate, ...]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """A merge of ``merged_id`` into ``survivor_id``; the unmerge fields are set once undone."""

    id: str
    survivor_id: str
    merged_id: str
    actor: str
    reason: str
    merged_at: datetime
    unmerged_at: datetime | None = None
    unmerged_by: str | None = None
    unmerge_reason: str | None = None

    @property
    def active(self) -> bool:
        """True until the merge is undone."""
        return self.unmerged_at is None


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """One row holding a subject's data: which component and table, and the row's key."""

    component: str
    table: str
    key: str


@dataclass(frozen=True, slots=True)
class ErasureSummary:
    """What an erasure removed: counts per table, the record ids, and how each hook fared.

    It holds ids and counts, never erased content, so the audit log may keep it.
    """

    subject_id: str
    actor: str
    reason: str
    erased_at: datetime
    record_ids: tuple[str, ...]
    rows: dict[str, int] = field(default_factory=dict)
    hook_rows: dict[str, int] = field(default_factory=dict)
    hook_failures: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """True when every erasure hook succeeded."""
        return not self.hook_failures
