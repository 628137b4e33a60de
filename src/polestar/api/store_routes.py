"""``/store/...`` and ``/resolution/...``: records with their history, merges, and the review queue.

Reading a record, its history or its provenance is a consultation (recorded
with the ``X-Polestar-Purpose`` purpose, like a search). Merging, unmerging and
deciding a review are combinations, recorded by the store's merge callback
with the actor and reason. The actor is the ``actor`` dependency: in the hub the
verified caller, else the ``X-Polestar-Actor`` header.
"""

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError

from polestar.api.store_component import StoreComponent
from polestar.audit import AuditError
from polestar.resolution import ResolutionError, ReviewDecided, ReviewNotFound, ReviewStatus
from polestar.search.api import (
    ActorSource,
    Consultation,
    ConsultationLog,
    NoConsultationLog,
    Purpose,
    RecordId,
    header_actor,
)
from polestar.search.errors import ConsultationRefused, ConsultationUnrecorded, SearchUnavailable
from polestar.store import EntityNotFound, MergeNotFound, MergeRefused, SqlStore

T = TypeVar("T")


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


def create_store_router(
    component: StoreComponent,
    *,
    consultations: ConsultationLog | None = None,
    actor: ActorSource = header_actor,
) -> APIRouter:
    """The record and merge routes over the hub's store component; ``actor`` names who acts."""
    Who = Annotated[str, Depends(actor)]  # noqa: N806 - a type alias, local to bind the dependency
    log = consultations or NoConsultationLog()
    router = APIRouter(tags=["store"])

    def store() -> SqlStore:
        try:
            return component.services().store
        except SearchUnavailable as exc:
            raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None

    async def consulted(
        actor: str, purpose: str | None, what: str, record_id: str, read: Callable[[], Awaitable[T]]
    ) -> T:
        asked = Consultation(
            actor, purpose, f"{what} of record {record_id}", what, [record_id], {"read": what}
        )
        try:
            await log.before(asked)
            found = await read()
            await log.after(asked)
        except ConsultationRefused as exc:
            raise HTTPException(HTTPStatus.BAD_REQUEST, str(exc)) from None
        except ConsultationUnrecorded as exc:
            raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None
        return found

    @router.get("/store/records/{record_id}", summary="Show a record")
    async def show(record_id: RecordId, actor: Who, purpose: Purpose = None) -> RecordView:
        """The record as held now; a merged id answers with its survivor."""
        held = store()
        found = await consulted(actor, purpose, "record", record_id, lambda: held.get(record_id))
        if found is None:
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no record {record_id}")
        return RecordView(
            id=found.id,
            requested_id=found.requested_id,
            kind=found.kind,
            version=found.version,
            marking=found.marking,
            document=found.document,
            merged_ids=list(found.merged_ids),
            created_at=found.created_at,
            updated_at=found.updated_at,
        )

    @router.get("/store/records/{record_id}/history", summary="A record's history")
    async def history(record_id: RecordId, actor: Who, purpose: Purpose = None) -> list[HistoryView]:
        """Every alteration of exactly this record, oldest first: what changed, who, which message."""
        held = store()
        entries = await consulted(actor, purpose, "history", record_id, lambda: held.history(record_id))
        if not entries:
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no record {record_id}")
        return [
            HistoryView(
                seq=e.seq,
                version=e.version,
                operation=e.operation.value,
                changed_fields=list(e.changed_fields),
                actor=e.actor,
                message_id=e.message_id,
                correlation_id=e.correlation_id,
                reason=e.reason,
                recorded_at=e.recorded_at,
                document=e.document,
            )
            for e in entries
        ]

    @router.get("/store/records/{record_id}/provenance", summary="Where each value came from")
    async def provenance(record_id: RecordId, actor: Who, purpose: Purpose = None) -> list[ClaimView]:
        """Each source system's value for each field; ``current`` marks the ones chosen."""
        held = store()
        claims = await consulted(actor, purpose, "provenance", record_id, lambda: held.provenance(record_id))
        return [
            ClaimView(
                path=c.path,
                system=c.system,
                value=c.value,
                organisation=c.organisation,
                reference=c.reference,
                observed_at=c.observed_at,
                version=c.version,
                current=c.current,
            )
            for c in claims
        ]

    @router.get("/store/records/{record_id}/merges", summary="A record's merges")
    async def merges_of(record_id: RecordId, actor: Who) -> list[MergeView]:
        """Every merge the record took part in, either side, undone or not (ids only: no personal data)."""
        del actor  # named for the record of who asked, once the access log covers listings
        return [_merge_view(m) for m in await store().merges(record_id)]

    @router.post("/store/merges", summary="Merge two records", status_code=HTTPStatus.CREATED)
    async def merge(body: Annotated[MergeRequest, Body()], actor: Who) -> MergeView:
        """Fold one record into another, reversibly; recorded as a combination with who and why."""
        with _answering():
            record = await store().merge(body.survivor_id, body.other_id, actor=actor, reason=body.reason)
        return _merge_view(record)

    @router.post("/store/merges/{merge_id}/unmerge", summary="Undo a merge")
    async def unmerge(merge_id: RecordId, body: Annotated[Reason, Body()], actor: Who) -> MergeView:
        """Both records stand alone again, with their own links; recorded as a combination undone."""
        with _answering():
            record = await store().unmerge(merge_id, actor=actor, reason=body.reason)
        return _merge_view(record)

    return router


def create_review_router(component: StoreComponent, *, actor: ActorSource = header_actor) -> APIRouter:
    """The entity resolution review queue: list, and decide merge or keep separate."""
    Who = Annotated[str, Depends(actor)]  # noqa: N806 - a type alias, local to bind the dependency
    router = APIRouter(tags=["store"])

    def running() -> None:
        try:
            component.services()
        except SearchUnavailable as exc:
            raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None

    @router.get("/resolution/reviews", summary="The review queue")
    async def reviews(
        actor: Who,
        status: Annotated[
            ReviewStatus | None, Query(description="Only reviews in this state.")
        ] = ReviewStatus.PENDING,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[ReviewView]:
        """Pairs the matcher was unsure of, highest score first (record ids and field levels only)."""
        del actor
        running()
        return [_review_view(r) for r in await component.resolver.reviews(status, limit)]

    @router.post("/resolution/reviews/{review_id}/decision", summary="Decide a review")
    async def decide(review_id: RecordId, body: Annotated[Decision, Body()], actor: Who) -> ReviewView:
        """Merge the pair (``same: true``) or keep them separate; a decision overrides the matcher."""
        running()
        with _answering():
            review = await component.resolver.decide(
                review_id, same=body.same, actor=actor, reason=body.reason
            )
        return _review_view(review)

    return router


@contextlib.contextmanager
def _answering() -> Iterator[None]:
    """Turn the store's and the resolver's expected errors into problem responses."""
    try:
        yield
    except (EntityNotFound, MergeNotFound, ReviewNotFound) as exc:
        raise HTTPException(HTTPStatus.NOT_FOUND, str(exc) or "not found") from None
    except (MergeRefused, ReviewDecided) as exc:
        raise HTTPException(HTTPStatus.CONFLICT, str(exc)) from None
    except AuditError as exc:
        raise HTTPException(
            HTTPStatus.SERVICE_UNAVAILABLE, f"done, but the audit log could not record it: {exc}"
        ) from None
    except (ResolutionError, ValueError) as exc:
        raise HTTPException(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)) from None
    except OperationalError as exc:
        raise HTTPException(
            HTTPStatus.SERVICE_UNAVAILABLE, f"the store could not answer: {str(exc.orig).strip()[:200]}"
        ) from None


def _merge_view(record: Any) -> MergeView:
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


def _review_view(review: Any) -> ReviewView:
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
