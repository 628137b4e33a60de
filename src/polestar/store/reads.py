"""Reading the store: current records, history, provenance, links and traversal, merges resolved."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, or_, select

from polestar.model.marking import ProtectiveMarking
from polestar.store.provenance import winners
from polestar.store.records import (
    Associate,
    FieldClaim,
    HistoryEntry,
    Operation,
    StoredEntity,
    StoredLink,
    Traversal,
)
from polestar.store.sqlbase import members, resolve, roots, utc, utc_or_none, visible
from polestar.store.tables import entities, entity_versions, links
from polestar.store.writes import ENTITY_ROW, load_claims

MAX_HOPS = 6
"""Deepest traversal allowed: beyond it everyone is everyone's associate."""


def get_entity(conn: Connection, entity_id: str, clearance: ProtectiveMarking | None) -> StoredEntity | None:
    """The current record for ``entity_id`` (its survivor, if it was merged), or None."""
    root = resolve(conn, entity_id)
    row = conn.execute(ENTITY_ROW, {"entity_id": root}).first()
    if row is None or not visible(row.marking, clearance):
        return None
    merged = sorted(m for m in members(conn, [root]) if m != root)
    return StoredEntity(
        id=row.id,
        kind=row.kind,
        version=row.version,
        document=row.document,
        marking=row.marking,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        requested_id=entity_id,
        merged_ids=tuple(merged),
    )


def history(conn: Connection, entity_id: str) -> list[HistoryEntry]:
    """Every alteration of exactly this record, oldest first."""
    ev = entity_versions
    rows = conn.execute(select(ev).where(ev.c.entity_id == entity_id).order_by(ev.c.seq)).all()
    return [
        HistoryEntry(
            entity_id=r.entity_id,
            seq=r.seq,
            version=r.version,
            operation=Operation(r.operation),
            document=r.document,
            changed_fields=tuple(r.changed_fields),
            actor=r.actor,
            message_id=r.message_id,
            correlation_id=r.correlation_id,
            reason=r.reason,
            recorded_at=utc(r.recorded_at),
        )
        for r in rows
    ]


def provenance(conn: Connection, entity_id: str, priority: Mapping[str, int]) -> list[FieldClaim]:
    """Every source's claim for each field of this record, the chosen one marked ``current``."""
    claims = load_claims(conn, entity_id)
    chosen = {(c.path, c.system) for c in winners(claims, priority).values()}
    return [
        FieldClaim(
            entity_id=entity_id,
            path=c.path,
            system=c.system,
            value=c.value,
            organisation=c.organisation,
            reference=c.reference,
            observed_at=c.observed_at,
            recorded_at=c.recorded_at,
            version=c.version,
            marking=c.marking,
            message_id=c.message_id,
            current=(c.path, c.system) in chosen,
        )
        for c in sorted(claims, key=lambda c: (c.path, -c.observed_at.timestamp(), c.system))
    ]


def _link_rows(conn: Connection, ids: Collection[str], roles: Collection[str] | None) -> list[Any]:
    query = select(links).where(or_(links.c.from_id.in_(list(ids)), links.c.to_id.in_(list(ids))))
    if roles is not None:
        query = query.where(links.c.role.in_(list(roles)))
    return list(conn.execute(query.order_by(links.c.id)).all())


def links_of(
    conn: Connection, entity_id: str, roles: Collection[str] | None, clearance: ProtectiveMarking | None
) -> list[StoredLink]:
    """Links touching ``entity_id`` or any record merged with it, ends resolved through merges."""
    cluster = members(conn, [resolve(conn, entity_id)])
    rows = [r for r in _link_rows(conn, cluster, roles) if visible(r.marking, clearance)]
    ends = roots(conn, {r.from_id for r in rows} | {r.to_id for r in rows})
    result = []
    for r in rows:
        start, end = ends[r.from_id], ends[r.to_id]
        if start == end:
            continue  # a link between two records now merged into one says nothing more
        result.append(
            StoredLink(
                id=r.id,
                role=r.role,
                from_kind=r.from_kind,
                from_id=start,
                to_kind=r.to_kind,
                to_id=end,
                valid_from=utc_or_none(r.valid_from),
                valid_to=utc_or_none(r.valid_to),
                marking=r.marking,
                system=r.system,
                named_from_id=r.from_id,
                named_to_id=r.to_id,
            )
        )
    return result


def traverse(
    conn: Connection,
    entity_id: str,
    *,
    hops: int,
    roles: Collection[str] | None,
    clearance: ProtectiveMarking | None,
    limit: int,
) -> Traversal:
    """Associates within ``hops`` links, breadth first; each entity once, at its shortest distance."""
    if not 1 <= hops <= MAX_HOPS:
        raise ValueError(f"hops must be between 1 and {MAX_HOPS}, not {hops}")
    if limit < 1:
        raise ValueError("limit must be at least 1")
    root = resolve(conn, entity_id)
    seen = {root}
    frontier = {root}
    found: list[Associate] = []
    for depth in range(1, hops + 1):
        if not frontier:
            break
        cluster = members(conn, frontier)
        rows = [r for r in _link_rows(conn, cluster, roles) if visible(r.marking, clearance)]
        ends = roots(conn, {r.from_id for r in rows} | {r.to_id for r in rows})
        candidates: dict[str, Associate] = {}
        for r in rows:
            for near, far, far_kind in ((r.from_id, r.to_id, r.to_kind), (r.to_id, r.from_id, r.from_kind)):
                target = ends[far]
                if near in cluster and target not in seen and target not in candidates:
                    candidates[target] = Associate(target, far_kind, depth, r.id, r.role, cluster[near])
        hidden = _hidden(conn, candidates, clearance)
        frontier = set()
        for target, associate in candidates.items():
            if target in hidden:
                continue
            if len(found) >= limit:
                return Traversal(root, tuple(found), truncated=True)
            seen.add(target)
            frontier.add(target)
            found.append(associate)
    return Traversal(root, tuple(found))


def _hidden(conn: Connection, ids: Collection[str], clearance: ProtectiveMarking | None) -> set[str]:
    if clearance is None or not ids:
        return set()
    rows = conn.execute(select(entities.c.id, entities.c.marking).where(entities.c.id.in_(list(ids)))).all()
    return {r.id for r in rows if not visible(r.marking, clearance)}
