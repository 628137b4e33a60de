"""What the resolver decides and its review queue entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    """The three outcomes of resolving an incoming record."""

    MERGED = "merged"
    REVIEW = "review"
    NEW = "new"


class ReviewStatus(StrEnum):
    """Where a review stands."""

    PENDING = "pending"
    MERGED = "merged"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Resolution:
    """What happened to one incoming record."""

    record_id: str
    outcome: Outcome
    candidate_id: str | None = None
    score: float | None = None
    reason: str = ""
    merge_id: str | None = None
    review_id: str | None = None
    fields: tuple[dict[str, object], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Review:
    """A pair waiting for (or given) a person's decision."""

    id: str
    record_id: str
    candidate_id: str
    score: float
    fields: tuple[dict[str, object], ...]
    status: ReviewStatus
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
    merge_id: str | None = None
