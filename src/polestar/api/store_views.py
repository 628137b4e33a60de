"""What the ``/store`` and ``/resolution`` routes answer: records, versions, claims, merges, reviews."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from polestar.resolution import ReviewStatus
from polestar.security.policy import marking_of


class RecordView(BaseModel):
    """A record as held now (its survivor if the id asked for was merged)."""

    id: str
    requested_id: str
    kind: str
    version: int
    marking: str
    document: dict[str, Any]
    merged_ids: list[str]
    created_at: datetime
    updated_at: datetime


class HistoryView(BaseModel):
    """One alteration of a record."""

    seq: int
    version: int
    operation: str
    changed_fields: list[str]
    actor: str | None
    message_id: str | None
    correlation_id: str | None
    reason: str | None
    recorded_at: datetime
    document: dict[str, Any]


class ClaimView(BaseModel):
    """One source's value for one field; ``current`` if it is the one chosen."""

    path: str
    system: str
    value: Any
    organisation: str
    reference: str | None
    observed_at: datetime
    version: int
    current: bool


class MergeView(BaseModel):
    """A merge, and its undoing once undone."""

    id: str
    survivor_id: str
    merged_id: str
    actor: str
    reason: str
    merged_at: datetime
    unmerged_at: datetime | None
    unmerged_by: str | None
    unmerge_reason: str | None
    active: bool


class MergeRequest(BaseModel):
    """Fold ``other_id`` into ``survivor_id`` (reversibly)."""

    model_config = ConfigDict(extra="forbid")

    survivor_id: str = Field(min_length=1, max_length=128)
    other_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=500, examples=["same PNC ID on both custody records"])


class Reason(BaseModel):
    """Why (recorded with the action)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


class ReviewView(BaseModel):
    """A pair the matcher was unsure of."""

    id: str
    record_id: str
    candidate_id: str
    score: float
    fields: list[dict[str, Any]]
    status: ReviewStatus
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None
    merge_id: str | None


class Decision(BaseModel):
    """A person's decision on a review: the same record (merge) or not (keep separate)."""

    model_config = ConfigDict(extra="forbid")

    same: bool = Field(description="True merges the pair (reversibly); false keeps them separate.")
    reason: str = Field(
        min_length=1, max_length=500, examples=["different dates of birth on the custody photos"]
    )


def version_label(value: Any, default: str) -> str:
    """A version's marking label (an unreadable one is the most restricted)."""
    return default if value is None else marking_of(value).label


def claim_view(c: Any, value: Any) -> ClaimView:
    """A provenance claim as shown, with its (redacted) value."""
    return ClaimView(
        path=c.path,
        system=c.system,
        value=value,
        organisation=c.organisation,
        reference=c.reference,
        observed_at=c.observed_at,
        version=c.version,
        current=c.current,
    )


def merge_view(record: Any) -> MergeView:
    """A merge record as shown."""
    return MergeView(
        id=record.id,
        survivor_id=record.survivor_id,
        merged_id=record.merged_id,
        actor=record.actor,
        reason=record.reason,
        merged_at=record.merged_at,
        unmerged_at=record.unmerged_at,
        unmerged_by=record.unmerged_by,
        unmerge_reason=record.unmerge_reason,
        active=record.active,
    )


def review_view(review: Any) -> ReviewView:
    """A review as shown."""
    return ReviewView(
        id=review.id,
        record_id=review.record_id,
        candidate_id=review.candidate_id,
        score=review.score,
        fields=[dict(f) for f in review.fields],
        status=review.status,
        created_at=review.created_at,
        decided_by=review.decided_by,
        decided_at=review.decided_at,
        reason=review.reason,
        merge_id=review.merge_id,
    )
