"""``Resolver``: is an incoming person someone the store already holds?

1. **Deterministic**: a strong identifier (PNC ID, CRO number, driving licence,
   as the model canonicalised and check-validated them) held by other records
   merges them all with it, eldest first, except those that disagree on another
   strong identifier (a person reviews one of those if nothing merged).
2. **Probabilistic**: the record's name, date of birth and gender are scored
   against the search index's candidates with the Fellegi-Sunter model; if the
   best candidate reaches ``merge_at`` bits the record is merged (with the
   eldest candidate that does), else it is queued for review at ``review_at``,
   else it is new. Two records holding different values of one strong
   identifier are never merged by score.

Records of one person resolved at the same time (a batch's records, or two
batches) each find the others; merges are folds of groups (``folding.py``), so
they all end on one survivor, the record held longest, and none is refused.

A person's decision overrides the matcher: a pair once unmerged is never merged
again automatically. Merges go through the store's ``merge`` (reversible,
recorded with who and why); ``store.unmerge`` undoes them. The review queue is
``review_queue.py``; a batch's shared reads and review writes are ``batch.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, select

from polestar.resolution.batch import ResolutionBatch, current_batch
from polestar.resolution.config import ResolutionPolicy
from polestar.resolution.errors import ResolutionError
from polestar.resolution.folding import Folded, elder, fold
from polestar.resolution.records import Outcome, Resolution
from polestar.resolution.review_queue import ReviewQueue
from polestar.resolution.tables import metadata
from polestar.search import SearchIndex
from polestar.search.keys import keys_from_document
from polestar.search.people import load
from polestar.search.query import PersonMatch
from polestar.search.weights import query_of
from polestar.store import SqlStore, StoredEntity
from polestar.store.reads import get_entity
from polestar.store.tables import entities


class Resolver(ReviewQueue):
    """Entity resolution for people, over a store and its search index; also the ``resolution`` hook.

    The review queue and the erasure hook are ``ReviewQueue``'s (``review_queue.py``).

    Args:
        store: where records live and merges are made.
        index: the search index on the same store (candidate retrieval and scoring).
        policy: thresholds and strong identifier types.
    """

    def __init__(
        self, store: SqlStore, index: SearchIndex, *, policy: ResolutionPolicy | None = None
    ) -> None:
        super().__init__(store)
        self.index = index
        self.policy = policy or ResolutionPolicy()

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
            batch.merges += 1

    # --- resolving -------------------------------------------------------------------------------

    async def resolve(self, record_id: str, *, refreshed: bool = False) -> Resolution:
        """Decide whether ``record_id`` is someone already held: merge, queue for review, or new.

        Its search keys are refreshed first, whatever the outcome (a record merged already
        keeps keys of its own, folded onto the survivor at search time), unless the caller
        has just ``refreshed`` them (the store's writer does a whole batch at once).
        """
        if not refreshed:
            await self.refresh_keys(record_id)
        read_at = self.merges_so_far()
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
        return await self.unless_folded(entity, await self._probabilistic(entity, own, strong), read_at)

    async def unless_folded(self, entity: StoredEntity, decided: Resolution, read_at: int) -> Resolution:
        """``decided``, unless it is new and a resolution alongside folded the record meanwhile.

        Two records of one person resolved in one batch: the one that survives may have
        found nothing left to merge (the other folded it first). It is merged, not new.
        ``read_at`` is ``merges_so_far()`` when ``entity`` was read: the record is read
        again only if the batch has begun a merge since.
        """
        if decided.outcome is not Outcome.NEW or self.merges_so_far() == read_at:
            return decided
        now = await self.store.get(entity.id)
        if now is None:
            return decided
        if now.id != entity.id:
            return Resolution(entity.id, Outcome.MERGED, now.id, reason="merged meanwhile, alongside")
        if set(now.merged_ids) - set(entity.merged_ids):
            return Resolution(entity.id, Outcome.MERGED, now.id, reason="others merged into it meanwhile")
        return decided

    @staticmethod
    def merges_so_far() -> int:
        """Merges begun in the open batch (0 outside one): ``unless_folded``'s ``read_at``."""
        batch = current_batch.get()
        return 0 if batch is None else batch.merges

    async def _deterministic(
        self, entity: StoredEntity, own: set[str], strong: dict[str, str]
    ) -> Resolution | None:
        """Fold every holder of the record's strong identifiers that does not disagree on another.

        Holders of one PNC ID (or CRO...) are one person, so all are folded, eldest first: the
        record and any other new holder then fold straight onto the eldest, whichever of the
        records arriving together resolves first. A holder that disagrees (or was unmerged by
        a person) goes to review when no holder could be folded.
        """
        holders = await self.index.holders(strong.items())
        others: dict[str, StoredEntity] = {}
        for holder in sorted(holders - own):
            other = await self.current(holder)
            if other is not None and other.id not in own:
                others.setdefault(other.id, other)
        agreeing: list[StoredEntity] = []
        doubt: tuple[StoredEntity, str] | None = None
        for other in others.values():
            theirs = _strong(other.document, self.policy.strong_identifiers)
            conflict = _conflicts(strong, theirs)
            if conflict or await self.unmerged_before(entity.id, other):
                shared = ", ".join(sorted(t for t, v in theirs.items() if strong.get(t) == v))
                why = f"same {shared} but different {', '.join(conflict)}" if conflict else ""
                doubt = doubt or (other, why or "unmerged by a person before")
            else:
                agreeing.append(other)
        survivor: str | None = None
        first: tuple[str, str | None] | None = None  # why, and the first merge made
        for other in sorted(agreeing, key=lambda o: (o.created_at, o.id)):
            theirs = _strong(other.document, self.policy.strong_identifiers)
            why = f"same {', '.join(sorted(t for t, v in theirs.items() if strong.get(t) == v))}"
            folded = await self._fold(entity.id, other.id, why, strong)
            if folded is None:
                # The group this record is in by now (earlier folds, or a resolution alongside) holds
                # an identifier that differs from ``other``'s group's, or a record a person unmerged.
                doubt = doubt or (
                    other,
                    f"{why}, but its group now differs from the record's or was unmerged",
                )
                continue
            survivor = folded.survivor_id
            if first is None or first[1] is None:
                first = (why, folded.merge_id)
        if survivor is not None and first is not None:
            reason = f"entity resolution: {first[0]}"
            return Resolution(entity.id, Outcome.MERGED, survivor, None, reason, merge_id=first[1])
        if doubt is not None:
            return await self.queue(entity.id, doubt[0].id, float("inf"), (), doubt[1])
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
        # The best candidate decides between merge and review, as ever; when it merges, the
        # eldest of the candidates that would merge is the one folded with: records of one
        # person arriving together then all fold onto the person already held, not onto
        # whichever of them each found best (which could leave the held one apart).
        merging: list[tuple[StoredEntity, PersonMatch]] = []
        for match in matches:
            if match.person_id in own:
                continue
            if match.score < (self.policy.merge_at if merging else self.policy.review_at):
                break  # best first: no later candidate reaches review (or merge) either
            other = await self.current(match.person_id)
            if other is None or other.id in own:
                continue
            if _conflicts(strong, _strong(other.document, self.policy.strong_identifiers)):
                continue  # a different PNC ID (or CRO...) is a different person, whatever the name
            if match.score >= self.policy.merge_at and not await self.unmerged_before(entity.id, other):
                merging.append((other, match))
            elif not merging:
                return await self.queue(entity.id, other.id, match.score, _fields(match), "possible match")
        if not merging:
            return Resolution(entity.id, Outcome.NEW, reason="no candidate above the review threshold")
        other, match = min(merging, key=lambda found: (found[0].created_at, found[0].id))
        folded = await self._fold(entity.id, other.id, _BY_NAME, strong, score=match.score)
        if folded is None:  # merged meanwhile with a record of a different PNC ID (or CRO...)
            return await self.queue(entity.id, other.id, match.score, _fields(match), "possible match")
        reason = f"entity resolution: {_BY_NAME} (score {match.score:.1f} bits)"
        return Resolution(
            entity.id,
            Outcome.MERGED,
            folded.survivor_id,
            match.score,
            reason,
            merge_id=folded.merge_id,
            fields=_fields(match),
        )

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
        """(survivor, merged) of two records as they are now: see ``folding.elder``."""
        first, second = await self.current(one), await self.current(other)
        if first is None or second is None:
            return one, other
        survivor, merged = elder(first, second)
        return survivor.id, merged.id

    async def groups_agree(self, mine: StoredEntity, theirs: StoredEntity) -> bool:
        """True if the two groups may be one: no strong identifier differs, no pair was unmerged by a person.

        Each group is its survivor and every record merged into it; a kind of identifier
        differs when both groups hold it and share no value. Asked before every merge.
        """
        kinds = self.policy.strong_identifiers
        held = []
        for group in (mine, theirs):
            found = await self.index.identifiers_of([group.id, *group.merged_ids])
            found |= set(_strong(group.document, kinds).items())
            held.append({kind: {v for t, v in found if t == kind} for kind in kinds})
        if any(held[0][k] and held[1][k] and held[0][k].isdisjoint(held[1][k]) for k in kinds):
            return False
        for member in (mine.id, *mine.merged_ids):
            if await self.unmerged_before(member, theirs):
                return False
        return True

    async def unmerged_before(self, record_id: str, other: StoredEntity) -> bool:
        """True if a person undid a merge of ``record_id`` with ``other`` (or a record merged into it)."""
        theirs = {other.id, *other.merged_ids}
        for merge in await self.store.merges(record_id):
            if not merge.active and {merge.survivor_id, merge.merged_id} - {record_id} <= theirs:
                return True
        return False

    async def _fold(
        self, record_id: str, other_id: str, why: str, strong: dict[str, str], *, score: float | None = None
    ) -> Folded | None:
        """``folding.fold`` the record's group with ``other_id``'s; None if that group now disagrees."""
        reason = f"entity resolution: {why}" + (f" (score {score:.1f} bits)" if score is not None else "")
        self.merging()
        try:
            return await fold(
                self.store,
                record_id,
                other_id,
                actor=self.policy.actor,
                reason=reason,
                agrees=self.groups_agree,
            )
        finally:
            self.merging()


_BY_NAME = "matched by name and date of birth"


def _strong(document: dict[str, Any], kinds: Sequence[str]) -> dict[str, str]:
    return {
        str(i["type"]): str(i["value"])
        for i in document.get("identifiers") or ()
        if str(i.get("type")) in kinds and i.get("value")
    }


def _conflicts(mine: dict[str, str], theirs: dict[str, str]) -> list[str]:
    return sorted(t for t in mine.keys() & theirs.keys() if mine[t] != theirs[t])


def _fields(match: PersonMatch) -> tuple[dict[str, Any], ...]:
    return tuple({"field": f.field, "level": f.level, "weight": round(f.weight, 3)} for f in match.fields)
