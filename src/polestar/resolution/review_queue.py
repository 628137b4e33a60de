"""The review queue: pairs the matcher was unsure of, for a person to decide; and its erasure hook.

``ReviewQueue`` is the part of ``Resolver`` that keeps the queue (``queue``,
``reviews``, ``decide``) and answers the store's erasure hook (``locate``,
``erase``): a review names two records, so it goes with either's erasure.
Inside ``Resolver.batched`` a queued review is held and written with the batch.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, select, update

from polestar.model.timeutil import utcnow
from polestar.resolution.batch import current_batch
from polestar.resolution.errors import ReviewDecided, ReviewNotFound
from polestar.resolution.records import Outcome, Resolution, Review, ReviewStatus
from polestar.resolution.tables import reviews
from polestar.store import SqlStore
from polestar.store.records import SubjectRow

T = TypeVar("T")


class ReviewQueue:
    """The review queue over a store's ``resolution_reviews`` table; also the ``resolution`` erasure hook.

    Args:
        store: where the reviews live, and the merges a person's decision makes.
    """

    name = "resolution"

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def _run(self, work: Callable[[Connection], T], *, write: bool = False) -> T:
        def in_thread() -> T:
            with self.store.transaction(write=write) as conn:
                return work(conn)

        return await asyncio.to_thread(in_thread)

    async def queue(
        self, record_id: str, candidate_id: str, score: float, fields: tuple[dict[str, Any], ...], why: str
    ) -> Resolution:
        """Put the pair in the review queue for a person to decide (once: a pending pair is not repeated)."""
        stored = min(score, 1e6)
        batch = current_batch.get()
        if batch is not None:
            review_id = batch.queue(record_id, candidate_id, stored, fields, why)
            return Resolution(
                record_id, Outcome.REVIEW, candidate_id, score, why, review_id=review_id, fields=fields
            )

        def work(conn: Connection) -> str:
            existing = conn.execute(
                select(reviews.c.id).where(
                    reviews.c.record_id == record_id,
                    reviews.c.candidate_id == candidate_id,
                    reviews.c.status == ReviewStatus.PENDING.value,
                )
            ).scalar()
            if existing is not None:
                return str(existing)
            review_id = str(uuid.uuid4())
            conn.execute(
                reviews.insert().values(
                    id=review_id,
                    record_id=record_id,
                    candidate_id=candidate_id,
                    score=stored,
                    fields=list(fields),
                    status=ReviewStatus.PENDING.value,
                    created_at=utcnow(),
                    reason=why,
                )
            )
            return review_id

        review_id = await self._run(work, write=True)  # the pending check and the insert, together
        return Resolution(
            record_id, Outcome.REVIEW, candidate_id, score, why, review_id=review_id, fields=fields
        )

    # --- listing and deciding ------------------------------------------------------------------

    async def reviews(
        self, status: ReviewStatus | None = ReviewStatus.PENDING, limit: int = 100
    ) -> list[Review]:
        """Reviews, highest score first (pending ones by default)."""

        def work(conn: Connection) -> list[Review]:
            statement = select(reviews).order_by(reviews.c.score.desc(), reviews.c.created_at).limit(limit)
            if status is not None:
                statement = statement.where(reviews.c.status == status.value)
            return [_review(row) for row in conn.execute(statement)]

        return await self._run(work)

    async def decide(self, review_id: str, *, same: bool, actor: str, reason: str) -> Review:
        """A person's decision: ``same`` merges the pair (reversibly), else the review is rejected."""
        found = await self._run(
            lambda conn: conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
        )
        if found is None:
            raise ReviewNotFound(review_id)
        review = _review(found)
        if review.status is not ReviewStatus.PENDING:
            raise ReviewDecided(f"review {review_id} was already {review.status.value}")
        merge_id = None
        if same:
            survivor, other = (
                await self.store.get(review.candidate_id),
                await self.store.get(review.record_id),
            )
            if survivor is None or other is None:
                raise ReviewNotFound(f"review {review_id}: a record has gone")
            if survivor.id != other.id:
                merge = await self.store.merge(survivor.id, other.id, actor=actor, reason=reason)
                merge_id = merge.id
        values = {
            "status": (ReviewStatus.MERGED if same else ReviewStatus.REJECTED).value,
            "decided_by": actor,
            "decided_at": utcnow(),
            "reason": reason,
            "merge_id": merge_id,
        }
        pending = reviews.c.status == ReviewStatus.PENDING.value
        claimed = await self._run(
            lambda conn: (
                conn.execute(
                    update(reviews).where(reviews.c.id == review_id, pending).values(**values)
                ).rowcount
            ),
            write=True,
        )
        if not claimed:  # a decision made at the same moment got there first
            raise ReviewDecided(f"review {review_id} was decided by someone else meanwhile")
        return await self._get(review_id)

    async def _get(self, review_id: str) -> Review:
        row = await self._run(
            lambda conn: conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
        )
        if row is None:
            raise ReviewNotFound(review_id)
        return _review(row)

    # --- the erasure hook ------------------------------------------------------------------------

    async def locate(self, record_ids: Sequence[str]) -> list[SubjectRow]:
        """Reviews naming any of ``record_ids``."""
        ids = list(record_ids)

        def work(conn: Connection) -> list[SubjectRow]:
            rows = conn.execute(
                select(reviews.c.id).where(reviews.c.record_id.in_(ids) | reviews.c.candidate_id.in_(ids))
            ).scalars()
            return [SubjectRow(self.name, reviews.name, str(r)) for r in rows]

        return await self._run(work)

    async def erase(self, record_ids: Sequence[str]) -> int:
        """Delete reviews naming any of ``record_ids``; idempotent."""
        ids = list(record_ids)

        def work(conn: Connection) -> int:
            gone = conn.execute(
                delete(reviews).where(reviews.c.record_id.in_(ids) | reviews.c.candidate_id.in_(ids))
            )
            return int(gone.rowcount or 0)

        return await self._run(work, write=True)


def _review(row: Any) -> Review:
    return Review(
        id=row.id,
        record_id=row.record_id,
        candidate_id=row.candidate_id,
        score=row.score,
        fields=tuple(row.fields or ()),
        status=ReviewStatus(row.status),
        created_at=row.created_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        merge_id=row.merge_id,
    )
