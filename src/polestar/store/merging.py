"""Merge and unmerge: one record folded into another, reversibly.

A merge sets the merged record's ``merged_into`` and writes a merge record; it
changes no document and no link. Reads resolve every id through
``merged_into`` (``sqlbase.resolve``), so the merged record's links show on the
survivor and traversal passes through it. Unmerging clears ``merged_into``: the
links are back where they were, because they never moved. Both records get a
history entry for each, with who and why.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from polestar.store.errors import EntityNotFound, MergeNotFound, MergeRefused
from polestar.store.records import MergeRecord, Operation
from polestar.store.sqlbase import lock_ids, utc, utc_or_none
from polestar.store.tables import entities, merges
from polestar.store.writes import record_history


def merge_records(
    conn: Connection, survivor_id: str, other_id: str, *, actor: str, reason: str, now: datetime
) -> MergeRecord:
    """Fold ``other_id`` into ``survivor_id``; both must be unmerged records of the same kind."""
    if survivor_id == other_id:
        raise MergeRefused("a record cannot be merged into itself")
    if not actor or not reason:
        raise MergeRefused("a merge needs an actor and a reason")
    lock_ids(conn, (survivor_id, other_id))
    survivor, other = _row(conn, survivor_id), _row(conn, other_id)
    for row in (survivor, other):
        if row.merged_into is not None:
            raise MergeRefused(f"{row.id} is already merged into {row.merged_into}")
    if survivor.kind != other.kind:
        raise MergeRefused(f"cannot merge a {other.kind} into a {survivor.kind}")
    if survivor.kind == "link":
        raise MergeRefused("links are not merged; merge the records at their ends")
    record = MergeRecord(
        id=str(uuid.uuid4()),
        survivor_id=survivor_id,
        merged_id=other_id,
        actor=actor,
        reason=reason,
        merged_at=now,
    )
    conn.execute(
        merges.insert().values(
            id=record.id,
            survivor_id=survivor_id,
            merged_id=other_id,
            actor=actor,
            reason=reason,
            merged_at=now,
        )
    )
    conn.execute(update(entities).where(entities.c.id == other_id).values(merged_into=survivor_id))
    _note(
        conn,
        survivor,
        Operation.MERGED,
        actor=actor,
        reason=f"merge {record.id}: absorbed {other_id}: {reason}",
        now=now,
    )
    _note(
        conn,
        other,
        Operation.MERGED,
        actor=actor,
        reason=f"merge {record.id}: merged into {survivor_id}: {reason}",
        now=now,
    )
    return record


def unmerge_records(
    conn: Connection, merge_id: str, *, actor: str, reason: str, now: datetime
) -> MergeRecord:
    """Undo merge ``merge_id``: the merged record stands alone again, with its own links."""
    if not actor or not reason:
        raise MergeRefused("an unmerge needs an actor and a reason")
    row = conn.execute(select(merges).where(merges.c.id == merge_id)).first()
    if row is None:
        raise MergeNotFound(f"no merge has id {merge_id}")
    lock_ids(conn, (row.survivor_id, row.merged_id))
    row = conn.execute(select(merges).where(merges.c.id == merge_id)).one()  # again, under the locks
    if row.unmerged_at is not None:
        raise MergeRefused(f"merge {merge_id} was already undone at {utc(row.unmerged_at).isoformat()}")
    survivor, other = _row(conn, row.survivor_id), _row(conn, row.merged_id)
    conn.execute(update(entities).where(entities.c.id == other.id).values(merged_into=None))
    conn.execute(
        update(merges)
        .where(merges.c.id == merge_id)
        .values(unmerged_at=now, unmerged_by=actor, unmerge_reason=reason)
    )
    released = f"merge {merge_id} undone: released {other.id}: {reason}"
    _note(conn, survivor, Operation.UNMERGED, actor=actor, reason=released, now=now)
    _note(conn, other, Operation.UNMERGED, actor=actor, reason=f"merge {merge_id} undone: {reason}", now=now)
    return merge_record(conn, merge_id)


def merge_record(conn: Connection, merge_id: str) -> MergeRecord:
    """The merge ``merge_id``, or ``MergeNotFound``."""
    row = conn.execute(select(merges).where(merges.c.id == merge_id)).first()
    if row is None:
        raise MergeNotFound(f"no merge has id {merge_id}")
    return MergeRecord(
        id=row.id,
        survivor_id=row.survivor_id,
        merged_id=row.merged_id,
        actor=row.actor,
        reason=row.reason,
        merged_at=utc(row.merged_at),
        unmerged_at=utc_or_none(row.unmerged_at),
        unmerged_by=row.unmerged_by,
        unmerge_reason=row.unmerge_reason,
    )


def merges_of(conn: Connection, entity_id: str) -> list[MergeRecord]:
    """Every merge ``entity_id`` took part in, either side, oldest first."""
    ids = conn.execute(
        select(merges.c.id)
        .where((merges.c.survivor_id == entity_id) | (merges.c.merged_id == entity_id))
        .order_by(merges.c.merged_at, merges.c.id)
    ).scalars()
    return [merge_record(conn, i) for i in ids]


def _row(conn: Connection, entity_id: str) -> Any:
    row = conn.execute(select(entities).where(entities.c.id == entity_id)).first()
    if row is None:
        raise EntityNotFound(f"no entity has id {entity_id}")
    return row


def _note(
    conn: Connection, row: Any, operation: Operation, *, actor: str, reason: str, now: datetime
) -> None:
    record_history(
        conn,
        row.id,
        version=row.version,
        operation=operation,
        document=row.document,
        changed=(),
        actor=actor,
        message_id=None,
        correlation_id=None,
        reason=reason,
        now=now,
    )
