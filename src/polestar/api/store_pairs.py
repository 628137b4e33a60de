"""The two records a merge or a review is about, read before acting so a hidden record stays hidden.

The store and the resolver act by merge or review id; the routes first check
the caller may see both records (else they answer 404, as for an absent id).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from polestar.resolution.tables import reviews
from polestar.store import SqlStore
from polestar.store.tables import merges


async def merge_pair(store: SqlStore, merge_id: str) -> tuple[str, str] | None:
    """The survivor and merged record ids of merge ``merge_id``, or None if there is none."""

    def read() -> tuple[str, str] | None:
        with store.engine.connect() as conn:
            row = conn.execute(
                select(merges.c.survivor_id, merges.c.merged_id).where(merges.c.id == merge_id)
            ).first()
        return None if row is None else (row.survivor_id, row.merged_id)

    return await asyncio.to_thread(read)


async def review_pair(store: SqlStore, review_id: str) -> tuple[str, str] | None:
    """The incoming record and candidate ids of review ``review_id``, or None if there is none."""

    def read() -> tuple[str, str] | None:
        with store.engine.connect() as conn:
            row = conn.execute(
                select(reviews.c.record_id, reviews.c.candidate_id).where(reviews.c.id == review_id)
            ).first()
        return None if row is None else (row.record_id, row.candidate_id)

    return await asyncio.to_thread(read)
