"""``/store/...`` and ``/resolution/...``: records with their history, merges, and the review queue.

Reading a record, its history or its provenance is a consultation (recorded
with the ``X-Polestar-Purpose`` purpose, like a search). Merging, unmerging and
deciding a review are combinations, recorded by the store's merge callback
with the actor and reason.

Each route authorises an action through the ``viewer`` seam (in the hub
``policy_viewer``): ``record.read`` (a record, its history, provenance),
``review.read`` (merges and the review queue: ids and scores only),
``record.merge`` and ``review.decide``. A record the caller may not see (above
their clearance, or with a caveat they lack) answers 404 exactly as an absent
one, and is left out of lists; versions and claims are screened by their own
markings, and documents are redacted field by field.
"""

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, HTTPException, Query
from sqlalchemy.exc import OperationalError

from polestar.api.store_component import StoreComponent
from polestar.api.store_pairs import merge_pair, review_pair
from polestar.api.store_views import (
    ClaimView,
    Decision,
    HistoryView,
    MergeRequest,
    MergeView,
    Reason,
    RecordView,
    ReviewView,
    claim_view,
    merge_view,
    review_view,
    version_label,
)
from polestar.audit import AuditError
from polestar.resolution import ResolutionError, ReviewDecided, ReviewNotFound, ReviewStatus
from polestar.search.api import (
    Consultation,
    ConsultationLog,
    NoConsultationLog,
    Purpose,
    RecordId,
    ViewerSource,
    header_viewer,
)
from polestar.search.errors import ConsultationRefused, ConsultationUnrecorded, SearchUnavailable
from polestar.search.screening import Marked, Viewer, markings, visible_ids
from polestar.store import EntityNotFound, MergeNotFound, MergeRefused, SqlStore

T = TypeVar("T")


def create_store_router(  # noqa: PLR0915 - one closure per route, sharing the store and the log
    component: StoreComponent,
    *,
    consultations: ConsultationLog | None = None,
    viewer: ViewerSource = header_viewer,
) -> APIRouter:
    """The record and merge routes over the hub's store component; ``viewer`` authorises and screens."""
    Reader = Annotated[Viewer, Depends(viewer("record.read"))]  # noqa: N806 - type aliases binding dependencies
    Auditor = Annotated[Viewer, Depends(viewer("review.read"))]  # noqa: N806
    Merger = Annotated[Viewer, Depends(viewer("record.merge"))]  # noqa: N806
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

    async def seen(who: Viewer, held: SqlStore, record_id: str) -> Marked:
        """The record's own row if the caller may see it; else 404, as if it were not held."""
        found = (await markings(held, [record_id])).get(record_id)
        if found is None or found.id not in await who.visible([found]):
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no record {record_id}")
        return found

    @router.get("/store/records/{record_id}", summary="Show a record")
    async def show(record_id: RecordId, who: Reader, purpose: Purpose = None) -> RecordView:
        """The record as held now; a merged id answers with its survivor."""
        held = store()

        async def read() -> Any:
            found = await held.get(record_id)
            if found is None or not await who.visible([Marked(found.id, found.kind, found.marking)]):
                return None
            return found

        found = await consulted(who.actor, purpose, "record", record_id, read)
        if found is None:
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no record {record_id}")
        return RecordView(
            id=found.id,
            requested_id=found.requested_id,
            kind=found.kind,
            version=found.version,
            marking=found.marking,
            document=who.redact(found.document),
            merged_ids=list(found.merged_ids),
            created_at=found.created_at,
            updated_at=found.updated_at,
        )

    @router.get("/store/records/{record_id}/history", summary="A record's history")
    async def history(record_id: RecordId, who: Reader, purpose: Purpose = None) -> list[HistoryView]:
        """Every alteration of exactly this record, oldest first: what changed, who, which message."""
        held = store()

        async def read() -> list[Any]:
            record = await seen(who, held, record_id)
            entries = await held.history(record_id)
            # Each version is shown only if its own marking may be: a record once SECRET stays so.
            versions = {
                f"{record_id}@{e.seq}": Marked(
                    f"{record_id}@{e.seq}",
                    record.kind,
                    version_label(e.document.get("marking"), record.marking),
                )
                for e in entries
            }
            shown = await who.visible(list(versions.values()))
            return [e for e in entries if f"{record_id}@{e.seq}" in shown]

        entries = await consulted(who.actor, purpose, "history", record_id, read)
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
                document=who.redact(e.document),
            )
            for e in entries
        ]

    @router.get("/store/records/{record_id}/provenance", summary="Where each value came from")
    async def provenance(record_id: RecordId, who: Reader, purpose: Purpose = None) -> list[ClaimView]:
        """Each source system's value for each field; ``current`` marks the ones chosen."""
        held = store()

        async def read() -> list[ClaimView]:
            record = await seen(who, held, record_id)
            claims = await held.provenance(record_id)
            marked = {f"{record_id}:{c.path}:{c.system}": c for c in claims}
            shown = await who.visible([Marked(k, record.kind, c.marking) for k, c in marked.items()])
            views = []
            for key, c in marked.items():
                redacted = who.redact({c.path: c.value})
                if key in shown and c.path in redacted:
                    views.append(claim_view(c, redacted[c.path]))
            return views

        return await consulted(who.actor, purpose, "provenance", record_id, read)

    @router.get("/store/records/{record_id}/merges", summary="A record's merges")
    async def merges_of(record_id: RecordId, who: Auditor) -> list[MergeView]:
        """Every merge the record took part in, either side, undone or not (ids only: no personal data)."""
        held = store()
        await seen(who, held, record_id)
        found = await held.merges(record_id)
        shown = await visible_ids(who, held, {m.survivor_id for m in found} | {m.merged_id for m in found})
        return [merge_view(m) for m in found if m.survivor_id in shown and m.merged_id in shown]

    @router.post("/store/merges", summary="Merge two records", status_code=HTTPStatus.CREATED)
    async def merge(body: Annotated[MergeRequest, Body()], who: Merger) -> MergeView:
        """Fold one record into another, reversibly; recorded as a combination with who and why."""
        held = store()
        for record_id in (body.survivor_id, body.other_id):
            await seen(who, held, record_id)
        with _answering():
            record = await held.merge(body.survivor_id, body.other_id, actor=who.actor, reason=body.reason)
        return merge_view(record)

    @router.post("/store/merges/{merge_id}/unmerge", summary="Undo a merge")
    async def unmerge(merge_id: RecordId, body: Annotated[Reason, Body()], who: Merger) -> MergeView:
        """Both records stand alone again, with their own links; recorded as a combination undone."""
        held = store()
        pair = await merge_pair(held, merge_id)
        if pair is None:
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no merge {merge_id}")
        if set(pair) - await visible_ids(who, held, pair):
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no merge {merge_id}")
        with _answering():
            record = await held.unmerge(merge_id, actor=who.actor, reason=body.reason)
        return merge_view(record)

    return router


def create_review_router(component: StoreComponent, *, viewer: ViewerSource = header_viewer) -> APIRouter:
    """The entity resolution review queue: list, and decide merge or keep separate."""
    Auditor = Annotated[Viewer, Depends(viewer("review.read"))]  # noqa: N806 - type aliases binding dependencies
    Decider = Annotated[Viewer, Depends(viewer("review.decide"))]  # noqa: N806
    router = APIRouter(tags=["store"])

    def running() -> SqlStore:
        try:
            return component.services().store
        except SearchUnavailable as exc:
            raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None

    @router.get("/resolution/reviews", summary="The review queue")
    async def reviews(
        who: Auditor,
        status: Annotated[
            ReviewStatus | None, Query(description="Only reviews in this state.")
        ] = ReviewStatus.PENDING,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[ReviewView]:
        """Pairs the matcher was unsure of, highest score first (record ids and field levels only)."""
        held = running()
        found = await component.resolver.reviews(status, limit)
        shown = await visible_ids(who, held, {r.record_id for r in found} | {r.candidate_id for r in found})
        return [review_view(r) for r in found if r.record_id in shown and r.candidate_id in shown]

    @router.post("/resolution/reviews/{review_id}/decision", summary="Decide a review")
    async def decide(review_id: RecordId, body: Annotated[Decision, Body()], who: Decider) -> ReviewView:
        """Merge the pair (``same: true``) or keep them separate; a decision overrides the matcher."""
        held = running()
        pair = await review_pair(held, review_id)
        if pair is not None and set(pair) - await visible_ids(who, held, pair):
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no review {review_id}")
        with _answering():
            review = await component.resolver.decide(
                review_id, same=body.same, actor=who.actor, reason=body.reason
            )
        return review_view(review)

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
