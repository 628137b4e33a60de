"""``Resolver``: is an incoming person someone the store already holds?

1. **Deterministic**: a strong identifier (PNC ID, CRO number, driving licence,
   as the model canonicalised and check-validated them) held by another record
   merges the two, unless they disagree on another strong identifier (then a
   person reviews it).
2. **Probabilistic**: the record's name, date of birth and gender are scored
   against the search index's candidates with the Fellegi-Sunter model; the best
   candidate is merged at ``merge_at`` bits, queued for review at ``review_at``,
   else the record is new. Two records holding different values of one strong
   identifier are never merged by score.

A person's decision overrides the matcher: a pair once unmerged is never merged
again automatically. Merges go through the store's ``merge`` (reversible,
recorded with who and why); ``store.unmerge`` undoes them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, delete, select, update

from polestar.model.timeutil import utcnow
from polestar.resolution.batch import ResolutionBatch, current_batch
from polestar.resolution.config import ResolutionPolicy
from polestar.resolution.errors import ResolutionError, ReviewDecided, ReviewNotFound
from polestar.resolution.records import Outcome, Resolution, Review, ReviewStatus
from polestar.resolution.tables import metadata, reviews
from polestar.search import SearchIndex
from polestar.search.keys import keys_from_document
from polestar.search.people import load
from polestar.search.query import PersonMatch
from polestar.search.weights import query_of
from polestar.store import SqlStore, StoredEntity
from polestar.store.reads import get_entity
from polestar.store.records import SubjectRow
from polestar.store.tables import entities

T = TypeVar("T")


class Resolver:
    """Entity resolution for people, over a store and its search index; also the ``resolution`` hook.

    Args:
        store: where records live and merges are made.
        index: the search index on the same store (candidate retrieval and scoring).
        policy: thresholds and strong identifier types.
    """

    name = "resolution"

    def __init__(
        self, store: SqlStore, index: SearchIndex, *, policy: ResolutionPolicy | None = None
    ) -> None:
        self.store = store
        self.index = index
        self.policy = policy or ResolutionPolicy()

    async def _run(self, work: Callable[[Connection], T], *, write: bool = False) -> T:
        def in_thread() -> T:
            with self.store.transaction(write=write) as conn:
                return work(conn)

        return await asyncio.to_thread(in_thread)

    async def start(self) -> None:
        """Create the review table if it is missing."""
        await asyncio.to_thread(metadata.create_all, self.store.engine)

    @asynccontextmanager
    async def batched(self, record_ids: Sequence[str] = ()) -> AsyncIterator[ResolutionBatch]:
        """Resolutions started inside share one ``ResolutionBatch``; its reviews are written on leaving.

        ``record_ids`` (the records about to be resolved) are read first, in one transaction.
        Tasks started inside (``asyncio.gather``) belong to the batch too. If the block fails,
        no review is written: the batch is resolved again on redelivery.
        """
        batch = ResolutionBatch()
        if record_ids:
            ids = list(dict.fromkeys(record_ids))
            batch.entities = await self._run(lambda conn: {i: get_entity(conn, i, None) for i in ids})
        token = current_batch.set(batch)
        try:
            yield batch
        finally:
            current_batch.reset(token)
        if batch.reviews:
            await self._run(batch.write, write=True)

    async def current(self, record_id: str) -> StoredEntity | None:
        """``store.get``, from the open batch's reads while no merge has been made in it."""
        batch = current_batch.get()
        if batch is not None and record_id in batch.entities:
            return batch.entities[record_id]
        return await self.store.get(record_id)

    @staticmethod
    def merging() -> None:
        """Forget the open batch's reads: a merge is about to change which record survives."""
        batch = current_batch.get()
        if batch is not None:
            batch.entities.clear()

    # --- resolving -------------------------------------------------------------------------------

    async def resolve(self, record_id: str, *, refreshed: bool = False) -> Resolution:
        """Decide whether ``record_id`` is someone already held: merge, queue for review, or new.

        Its search keys are refreshed first, whatever the outcome (a record merged already
        keeps keys of its own, folded onto the survivor at search time), unless the caller
        has just ``refreshed`` them (the store's writer does a whole batch at once).
        """
        if not refreshed:
            await self.refresh_keys(record_id)
        entity = await self.current(record_id)
        if entity is None or entity.kind != "person":
            raise ResolutionError(f"{record_id} is not a person the store holds")
        if entity.id != record_id:
            return Resolution(record_id, Outcome.MERGED, entity.id, reason="already merged")
        own = {entity.id, *entity.merged_ids}
        strong = _strong(entity.document, self.policy.strong_identifiers)
        if strong:
            decided = await self._deterministic(entity, own, strong)
            if decided is not None:
                return decided
        return await self._probabilistic(entity, own, strong)

    async def _deterministic(
        self, entity: StoredEntity, own: set[str], strong: dict[str, str]
    ) -> Resolution | None:
        holders = await self.index.holders(strong.items())
        for holder in sorted(holders - own):
            other = await self.current(holder)
            if other is None or other.id in own:
                continue
            shared = sorted(
                t
                for t, v in _strong(other.document, self.policy.strong_identifiers).items()
                if strong.get(t) == v
            )
            conflict = _conflicts(strong, _strong(other.document, self.policy.strong_identifiers))
            if conflict or await self.unmerged_before(entity.id, other):
                why = f"same {', '.join(shared)} but different {', '.join(conflict)}" if conflict else ""
                return await self.queue(
                    entity.id, other.id, float("inf"), (), why or "unmerged by a person before"
                )
            return await self._merge(entity.id, other.id, None, (), f"same {', '.join(shared)}")
        return None

    async def _probabilistic(self, entity: StoredEntity, own: set[str], strong: dict[str, str]) -> Resolution:
        def candidates(conn: Connection) -> list[PersonMatch] | None:
            # The record's keys and the search over them in one transaction (one thread hop).
            keys = load(conn, [entity.id])
            query = query_of(keys[0]) if keys else None
            if query is None:
                return None
            return self.index.search_blocking(conn, query.model_copy(update={"limit": 20}))

        matches = await self._run(candidates)
        if matches is None:
            return Resolution(entity.id, Outcome.NEW, reason="no name to compare")
        for match in matches:
            if match.person_id in own:
                continue
            if match.score < self.policy.review_at:
                break  # best first: no later candidate reaches review either
            other = await self.current(match.person_id)
            if other is None or other.id in own:
                continue
            fields = tuple(
                {"field": f.field, "level": f.level, "weight": round(f.weight, 3)} for f in match.fields
            )
            if _conflicts(strong, _strong(other.document, self.policy.strong_identifiers)):
                continue  # a different PNC ID (or CRO...) is a different person, whatever the name
            if match.score >= self.policy.merge_at and not await self.unmerged_before(entity.id, other):
                return await self._merge(
                    entity.id, other.id, match.score, fields, "matched by name and date of birth"
                )
            return await self.queue(entity.id, other.id, match.score, fields, "possible match")
        return Resolution(entity.id, Outcome.NEW, reason="no candidate above the review threshold")

    async def refresh_keys(self, record_id: str) -> None:
        """Re-read one record's search keys in one write transaction (a record gone loses them).

        ``SearchIndex.refresh`` does the same; this keeps the delete and inserts in one
        transaction on the store's own terms (one commit, one sync on SQLite).
        """

        def work(conn: Connection) -> bool:
            row = conn.execute(
                select(entities.c.kind, entities.c.document).where(entities.c.id == record_id)
            ).first()
            if row is None or row.kind != "person":
                return False
            self.index.put_blocking(conn, [keys_from_document(record_id, row.document)])
            return True

        if not await self._run(work, write=True):
            await self.index.erase([record_id])

    async def elder_first(self, one: str, other: str) -> tuple[str, str]:
        """(survivor, merged): the record the store has held longest survives, whichever arrived last.

        Two records of one person arriving together are resolved in parallel, each finding
        the other; the rule makes both reach the same merge, whichever runs first.
        """
        first, second = await self.current(one), await self.current(other)
        if first is None or second is None:
            return one, other
        if (second.created_at, second.id) < (first.created_at, first.id):
            return other, one
        return one, other

    async def unmerged_before(self, record_id: str, other: StoredEntity) -> bool:
        """True if a person undid a merge of ``record_id`` with ``other`` (or a record merged into it)."""
        theirs = {other.id, *other.merged_ids}
        for merge in await self.store.merges(record_id):
            if not merge.active and {merge.survivor_id, merge.merged_id} - {record_id} <= theirs:
                return True
        return False

    async def _merge(
        self,
        record_id: str,
        survivor_id: str,
        score: float | None,
        fields: tuple[dict[str, Any], ...],
        why: str,
    ) -> Resolution:
        reason = f"entity resolution: {why}" + (f" (score {score:.1f} bits)" if score is not None else "")
        self.merging()
        survivor_id, merged_id = await self.elder_first(survivor_id, record_id)
        try:
            merge = await self.store.merge(survivor_id, merged_id, actor=self.policy.actor, reason=reason)
        finally:
            self.merging()
        return Resolution(
            record_id, Outcome.MERGED, survivor_id, score, reason, merge_id=merge.id, fields=fields
        )

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

    # --- the review queue ------------------------------------------------------------------------

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


def _strong(document: dict[str, Any], kinds: Sequence[str]) -> dict[str, str]:
    return {
        str(i["type"]): str(i["value"])
        for i in document.get("identifiers") or ()
        if str(i.get("type")) in kinds and i.get("value")
    }


def _conflicts(mine: dict[str, str], theirs: dict[str, str]) -> list[str]:
    return sorted(t for t in mine.keys() & theirs.keys() if mine[t] != theirs[t])


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
