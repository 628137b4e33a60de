"""Helpers every store statement shares: time, markings, locks, and resolving ids through merges."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

from polestar.model.marking import ProtectiveMarking
from polestar.store.tables import entities

MAX_MERGE_DEPTH = 64
"""Longest chain of merges followed; a longer one means the table was edited by hand."""

# Built once (see ``writes``): every read and resolution follows merges this way.
_MERGED_INTO = select(entities.c.merged_into).where(entities.c.id == bindparam("entity_id"))
_MERGED_FROM = select(entities.c.id, entities.c.merged_into).where(
    entities.c.merged_into.in_(bindparam("ids", expanding=True))
)


def utc(value: datetime) -> datetime:
    """A time read back from the database, in UTC (SQLite gives back naive times, all stored in UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    """``utc`` that lets ``None`` through."""
    return None if value is None else utc(value)


def visible(label: str, clearance: ProtectiveMarking | None) -> bool:
    """True if a caller holding ``clearance`` (None: no filtering) may see a record marked ``label``."""
    return clearance is None or clearance.dominates(ProtectiveMarking.parse(label))


def insert_ignore(conn: Connection, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert a row unless its primary key is taken; True if it was inserted."""
    statement = _insert_ignoring(conn.dialect.name, table)
    return conn.execute(statement, dict(values)).first() is not None


@functools.cache
def _insert_ignoring(dialect_name: str, table: Table) -> Any:
    # Built once per table: the values come as parameters, so the statement's cache key is reused.
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    key = next(iter(table.primary_key.columns))
    return dialect.insert(table).on_conflict_do_nothing().returning(key)


def lock_ids(conn: Connection, ids: Iterable[str]) -> None:
    """Serialise writers on these entity ids until the transaction ends.

    SQLite needs nothing: a write transaction (``BEGIN IMMEDIATE``) holds the
    database's one write lock. PostgreSQL takes transaction-scoped advisory
    locks, in a fixed order so two writers cannot deadlock on them.
    """
    if conn.dialect.name != "postgresql":
        return
    for entity_id in sorted(set(ids)):
        conn.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended("polestar-store:" + entity_id, 0)))
        )


def resolve(conn: Connection, entity_id: str) -> str:
    """The record ``entity_id`` was merged into, following chains; itself if it was not merged."""
    current = entity_id
    for _ in range(MAX_MERGE_DEPTH):
        parent = conn.execute(_MERGED_INTO, {"entity_id": current}).scalar()
        if parent is None:
            return current
        current = parent
    raise RuntimeError(f"merge chain from {entity_id} is longer than {MAX_MERGE_DEPTH}")


def roots(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """``resolve`` for many ids at once: id -> the record it now lives in."""
    result = {i: i for i in ids}
    pending = set(result)
    for _ in range(MAX_MERGE_DEPTH):
        if not pending:
            return result
        rows = conn.execute(
            select(entities.c.id, entities.c.merged_into).where(
                entities.c.id.in_(list(pending)), entities.c.merged_into.is_not(None)
            )
        ).all()
        moved = {row.id: row.merged_into for row in rows}
        for original, position in result.items():
            if position in moved:
                result[original] = moved[position]
        pending = set(moved.values())
    raise RuntimeError(f"a merge chain is longer than {MAX_MERGE_DEPTH}")


def members(conn: Connection, survivors: Iterable[str]) -> dict[str, str]:
    """Every record merged (directly or not) into each survivor, and the survivors: member -> survivor."""
    result = {s: s for s in survivors}
    frontier = set(result)
    for _ in range(MAX_MERGE_DEPTH):
        if not frontier:
            return result
        rows = conn.execute(_MERGED_FROM, {"ids": list(frontier)}).all()
        frontier = set()
        for row in rows:
            if row.id not in result:
                result[row.id] = result[row.merged_into]
                frontier.add(row.id)
    raise RuntimeError(f"a merge chain is longer than {MAX_MERGE_DEPTH}")
