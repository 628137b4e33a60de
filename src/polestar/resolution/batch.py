"""Resolving a batch of records at once: fewer transactions, no work that cannot change a decision.

::

    async with resolver.batched() as batch:          # reviews decided inside are written together
        decided = await asyncio.gather(*(resolver.resolve(i, refreshed=True) for i in people))
    decided = [batch.settled(d) for d in decided]     # review ids as written

* **Reviews** decided while a batch is open are written in one transaction when
  it closes, instead of one transaction (and one commit) per decision. A review
  changes no other decision of the batch (merges, which do, are still made at
  once), so deferring its write changes nothing but the number of commits. A
  pair already pending keeps its review; ``settled`` gives a decision that
  review's id.
* **The batch's own records** are read in one transaction when it opens, not
  one each; the first merge made in the batch drops them (a merge changes who
  survives), and later reads go to the store again.
* **Addresses at a postcode** are read once per batch: the place keys of the
  whole batch were refreshed before it is resolved, and resolving changes none.
* ``worth_resolving``: an update that changed none of the fields resolution
  compares (names, date of birth, identifiers, address words, VIN and mark)
  cannot change its decision, so it is not resolved again.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from polestar.model.timeutil import utcnow
from polestar.resolution.records import Resolution, ReviewStatus
from polestar.resolution.tables import reviews
from polestar.store import Outcome as ApplyOutcome
from polestar.store import StoredEntity
from polestar.store.tables import entities

RESOLVED_FIELDS: dict[str, frozenset[str]] = {
    "person": frozenset({"name", "aliases", "date_of_birth", "gender", "identifiers"}),
    "vehicle": frozenset({"vin", "registration"}),
    "location": frozenset({"address", "name", "description"}),
}
"""Per kind, the top-level document fields resolution compares (keys, identifiers, address words)."""


def worth_resolving(kind: str, outcome: ApplyOutcome, changed_fields: Iterable[str]) -> bool:
    """False for an update that changed none of ``kind``'s ``RESOLVED_FIELDS``; True otherwise.

    Creations and duplicates always resolve (a redelivery after a failure must finish the job).
    """
    if outcome is not ApplyOutcome.UPDATED:
        return True
    changed = set(changed_fields)
    return not changed or bool(changed & RESOLVED_FIELDS.get(kind, changed))


@dataclass(slots=True)
class _Review:
    id: str
    record_id: str
    candidate_id: str
    score: float
    fields: tuple[dict[str, Any], ...]
    reason: str


@dataclass(slots=True)
class ResolutionBatch:
    """What resolutions of one batch share: reviews to write, addresses already read per postcode."""

    reviews: dict[tuple[str, str], _Review] = field(default_factory=dict)
    postcodes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    entities: dict[str, StoredEntity | None] = field(default_factory=dict)
    written: dict[str, str] = field(default_factory=dict)
    """Each deferred review's id -> the id of the review that holds the pair (itself or one pending)."""
    merges: int = 0
    """Merges begun in the batch so far: a record read before one may have been folded since."""

    def queue(
        self, record_id: str, candidate_id: str, score: float, fields: tuple[dict[str, Any], ...], why: str
    ) -> str:
        """Hold a review for the batch's write; the same pair twice in a batch is one review."""
        held = self.reviews.get((record_id, candidate_id))
        if held is None:
            held = _Review(str(uuid.uuid4()), record_id, candidate_id, score, fields, why)
            self.reviews[(record_id, candidate_id)] = held
        return held.id

    def write(self, conn: Connection) -> int:
        """Insert the held reviews whose pair is not pending already; the number inserted."""
        if not self.reviews:
            return 0
        pending: dict[tuple[str, str], str] = {}
        held = list(self.reviews.values())
        for start in range(0, len(held), 400):  # two bound parameters a record; SQLite allows 999
            chunk = held[start : start + 400]
            rows = conn.execute(
                select(reviews.c.id, reviews.c.record_id, reviews.c.candidate_id).where(
                    reviews.c.status == ReviewStatus.PENDING.value,
                    reviews.c.record_id.in_({r.record_id for r in chunk}),
                    reviews.c.candidate_id.in_({r.candidate_id for r in chunk}),
                )
            )
            pending.update({(r.record_id, r.candidate_id): str(r.id) for r in rows})
        now = utcnow()
        fresh = [r for r in held if (r.record_id, r.candidate_id) not in pending]
        if fresh:
            # A record erased while the batch ran is gone: no review written after may name it.
            named = sorted({r.record_id for r in fresh} | {r.candidate_id for r in fresh})
            there: set[str] = set()
            for start in range(0, len(named), 800):
                ids = named[start : start + 800]
                there.update(conn.execute(select(entities.c.id).where(entities.c.id.in_(ids))).scalars())
            fresh = [r for r in fresh if r.record_id in there and r.candidate_id in there]
        if fresh:
            conn.execute(
                reviews.insert(),
                [
                    {
                        "id": r.id,
                        "record_id": r.record_id,
                        "candidate_id": r.candidate_id,
                        "score": r.score,
                        "fields": list(r.fields),
                        "status": ReviewStatus.PENDING.value,
                        "created_at": now,
                        "reason": r.reason,
                    }
                    for r in fresh
                ],
            )
        self.written = {r.id: pending.get((r.record_id, r.candidate_id), r.id) for r in held}
        return len(fresh)

    def settled(self, decided: Resolution) -> Resolution:
        """``decided`` with the id of the review that holds its pair once the batch is written."""
        if decided.review_id is None or decided.review_id not in self.written:
            return decided
        return dataclasses.replace(decided, review_id=self.written[decided.review_id])


current_batch: ContextVar[ResolutionBatch | None] = ContextVar("polestar_resolution_batch", default=None)
"""The batch the running resolution belongs to (``Resolver.batched``), if any."""
