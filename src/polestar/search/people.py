"""Person search: blocking in SQL, then Fellegi-Sunter scoring of each candidate in Python.

The blocking rules are ``blocking``'s; here their records are read back in one
statement, assembled once per sequence of rule kinds (and area level) with bind
parameters and reused, since building SQLAlchemy statements per query cost
more CPU than SQLite took to answer them.

A postcode, sector or outward code typed narrows every rule to the people linked
(as resident, or by a home-address link) to a location there, and adds rules of
its own within that area (``blocking.area_rules``). A current address there
counts for more than one whose link has ended (``ranking``).

Before blocking, the typed names' share of the index (``name_counts``) weighs
their exact agreement (term frequency: agreeing on a rare name counts for more
than on "Smith"). Unless results below "possible" are asked for, records that
could not score that much are not read at all (``bounds``); ``ranking`` scores
the rest.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Select, and_, bindparam, func, select, union, union_all

from polestar.model.links import LinkRole
from polestar.model.timeutil import utcnow
from polestar.search.blocking import Rule, area_rules, condition, rules
from polestar.search.bounds import ScoreBounds
from polestar.search.keys import BirthDate, NameKeys
from polestar.search.names import canonical, first_token, normalise, phonetic
from polestar.search.place_tables import location_keys
from polestar.search.query import PersonQuery
from polestar.search.ranking import Candidate, QueryScorer, Thresholds, rank, score
from polestar.search.tables import person_identifiers, person_keys
from polestar.store.sqlbase import utc
from polestar.store.tables import links

__all__ = [
    "CANDIDATE_LIMIT",
    "SCORED",
    "Candidate",
    "QueryScorer",
    "Thresholds",
    "candidate_of",
    "candidate_rows",
    "candidates",
    "load",
    "name_counts",
    "rank",
    "score",
]

CANDIDATE_LIMIT = 5000
"""Most candidate records one blocking rule may bring back."""

SCORED = (
    person_keys.c.person_id,
    person_keys.c.seq,
    person_keys.c.given,
    person_keys.c.middle,
    person_keys.c.family,
    person_keys.c.birth_year,
    person_keys.c.birth_month,
    person_keys.c.birth_day,
    person_keys.c.born_earliest,
    person_keys.c.born_latest,
    person_keys.c.gender,
)
"""The columns scoring reads (the blocking codes and initials stay in the database)."""

ADDRESS_ROLES = (LinkRole.RESIDENT.value, LinkRole.HOME_ADDRESS.value)
"""Link roles that make a location one of a person's addresses (presence, ``occupant``, does not)."""

COUNT_CACHE_SECONDS = 60.0
"""How long a large index's row counts (all, per name) are reused on one connection."""
COUNT_RECOUNT_BELOW = 50_000
"""An index with fewer rows than this is recounted on every search (cheap, and small ones change fast)."""
COUNT_CACHE_SIZE = 20_000
"""Most names whose counts one connection keeps (the cache starts again when full)."""


STATEMENT_CACHE_SIZE = 1000
"""Most candidate statements (one per sequence of rule kinds and area level) kept for reuse."""


def candidates(conn: Connection, query: PersonQuery) -> list[Candidate]:
    """Every record any blocking rule lets through, with all its names."""
    return [candidate_of(rows, held) for rows, held in candidate_rows(conn, query)]


def candidate_rows(
    conn: Connection, query: PersonQuery, bounds: ScoreBounds | None = None
) -> list[tuple[list[Any], list[tuple[str, str]]]]:
    """Per record any blocking rule lets through: its key rows (``SCORED`` columns) and identifiers.

    One statement reads the records: each rule is a seek on one index, at most
    ``CANDIDATE_LIMIT`` records, and their union is read back by key. Identifiers
    are read only when the query gives one (only then does scoring look at them).
    With ``bounds``, its scorer weighs exact name agreement by the typed names'
    frequency in the index (``name_counts``), the rules for a replaced name join
    when such a record could be shown, and a postcode's level is set per record.
    Unless the query asks for results below "possible" (or ``bounds.usable`` is
    false), a broad rule then first reads the distinct names it would bring back
    (from its index) and records that could not reach the cut-off stay in the
    database (``bounds.ScoreBounds``).
    """
    if bounds is not None:
        bounds.scorer.use_frequencies(*name_counts(conn, query))
    area = query.area()
    found = rules(query, conn, bounds) if area is None else area_rules(query)
    if not found:
        return []
    level = None if area is None else area[0]
    values = {f"r{i}_{name}": value for i, rule in enumerate(found) for name, value in rule.values.items()}
    if area is not None:
        values["area"] = area[1]
    rows = conn.execute(_statement(found, level), values).all()
    held: dict[str, list[tuple[str, str]]] = {}
    if query.identifiers:
        held = _identifiers(conn, sorted({r.person_id for r in rows}))
    if area is not None and bounds is not None:
        bounds.scorer.use_addresses(_address_levels(conn, query, sorted({r.person_id for r in rows})))
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return [(rows_, held.get(pid, [])) for pid, rows_ in grouped.items()]


_statements: dict[tuple[str | None, tuple[str, ...]], Select[Any]] = {}


def _statement(found: Sequence[Rule], level: str | None) -> Select[Any]:
    """The key rows of the records ``found`` lets through, parameters ``r<position>_<name>``.

    Reused for every query with the same kinds of rule in the same order (and
    area level). A rule narrowed by the query's own ``keep`` makes the statement
    this query's, but its other rules' parts are still the ones built before.
    """
    if any(rule.keep is not None for rule in found):
        return _assembled(
            [
                _member(rule.kind, i, level)
                if rule.keep is None
                else _union_member(_part(rule.kind, i, level).where(rule.keep))
                for i, rule in enumerate(found)
            ]
        )
    shape = (level, tuple(rule.kind for rule in found))
    statement = _statements.get(shape)
    if statement is None:
        if len(_statements) >= STATEMENT_CACHE_SIZE:
            _statements.clear()
        statement = _statements[shape] = _assembled(
            [_member(rule.kind, i, level) for i, rule in enumerate(found)]
        )
    return statement


def _assembled(members: Sequence[Select[Any]]) -> Select[Any]:
    k = person_keys.c
    return select(*SCORED).where(k.person_id.in_(union(*members))).order_by(k.person_id, k.seq)


def _union_member(part: Select[Any]) -> Select[Any]:
    """``part`` as a member of the union (a subquery: SQLite takes no LIMIT in a compound's member)."""
    return select(part.subquery().c.person_id)


@cache
def _member(kind: str, position: int, level: str | None) -> Select[Any]:
    """``_part`` as a member of the union, built once."""
    return _union_member(_part(kind, position, level))


@cache
def _part(kind: str, position: int, level: str | None) -> Select[Any]:
    """The records (at most ``CANDIDATE_LIMIT``) one rule lets through, within the area at ``level``."""
    k = person_keys.c
    where = condition(kind, f"r{position}_")
    if level is not None:  # the area bounds the search
        where = and_(where, k.person_id.in_(select(_area_people(level).subquery().c.person_id)))
    return select(k.person_id).where(where).distinct().limit(CANDIDATE_LIMIT)


@cache
def _area_people(level: str) -> CompoundSelect[Any]:
    """(person_id, valid_to) of every address link from a person to a location with ``level`` ``:area``."""
    at = select(location_keys.c.location_id).where(location_keys.c[level] == bindparam("area"))
    t = links.c
    roles = t.role.in_(ADDRESS_ROLES)
    return union_all(
        select(t.from_id.label("person_id"), t.valid_to).where(
            roles, t.from_kind == "person", t.to_id.in_(at)
        ),
        select(t.to_id.label("person_id"), t.valid_to).where(roles, t.to_kind == "person", t.from_id.in_(at)),
    )


@cache
def _area_links(level: str) -> Select[Any]:
    """``_area_people`` of the persons ``:ids``."""
    linked = _area_people(level).subquery()
    return select(linked).where(linked.c.person_id.in_(bindparam("ids", expanding=True)))


def _address_levels(conn: Connection, query: PersonQuery, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Per person in ``ids``: the typed level if a current address is in the area, else ``former``."""
    typed = query.area()
    assert typed is not None
    level, value = typed
    moment = utcnow()
    current: dict[str, bool] = {}
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for pid, valid_to in conn.execute(_area_links(level), {"area": value, "ids": chunk}):
            current[pid] = current.get(pid, False) or valid_to is None or utc(valid_to) > moment
    where = {"postcode": "at", "sector": "in sector", "outward": "in"}[level]
    found = {pid: (level, f"an address {where} {value}") for pid, now in current.items() if now}
    ended = {pid: ("former", f"a former address {where} {value}") for pid, now in current.items() if not now}
    return found | ended


def name_counts(conn: Connection, query: PersonQuery) -> tuple[int, int | None, int | None]:
    """(key rows in all, rows in the typed given name's group, rows with the typed family name's code).

    A name not typed counts None. Each count is one seek on a blocking index.
    Once the index is large (``COUNT_RECOUNT_BELOW``) the counts are statistics
    that move slowly, so they are kept on the connection for ``COUNT_CACHE_SECONDS``.
    """
    given = normalise(first_token(query.given))
    family = normalise(query.family)
    held = conn.info.get("polestar_search_counts", {}).get("")
    total = _count(conn, "", None, reuse=held is not None and held[0] >= COUNT_RECOUNT_BELOW)
    large = total >= COUNT_RECOUNT_BELOW
    given_count = family_count = None
    if given:
        given_count = _count(conn, "given:" + given, canonical(given), reuse=large)
    if family:
        family_count = _count(conn, "family:" + family, phonetic(family), reuse=large)
    return total, given_count, family_count


_COUNTED = select(func.count()).select_from(person_keys)
_COUNTS = {
    "": _COUNTED,
    "given": _COUNTED.where(person_keys.c.given_canon == bindparam("value")),
    "family": _COUNTED.where(person_keys.c.family_code == bindparam("value")),
}
"""Key rows in all, in a given-name group, with a family-name code (``:value``)."""


def _count(conn: Connection, key: str, value: str | None, *, reuse: bool) -> int:
    """Key rows whose ``key`` kind (before its ``:``) is ``value`` (all if None).

    With ``reuse``, a count kept under ``key`` less than ``COUNT_CACHE_SECONDS`` ago.
    """
    cache: dict[str, tuple[int, float]] = conn.info.setdefault("polestar_search_counts", {})
    now = time.monotonic()
    cached = cache.get(key)
    if reuse and cached is not None and now - cached[1] < COUNT_CACHE_SECONDS:
        return cached[0]
    statement = _COUNTS[key.partition(":")[0]]
    found = int(conn.execute(statement, {} if value is None else {"value": value}).scalar_one())
    if len(cache) >= COUNT_CACHE_SIZE:
        cache.clear()
    cache[key] = (found, now)
    return found


_LOADED = (
    select(*SCORED)
    .where(person_keys.c.person_id.in_(bindparam("ids", expanding=True)))
    .order_by(person_keys.c.person_id, person_keys.c.seq)
)
_HELD = select(person_identifiers.c.person_id, person_identifiers.c.type, person_identifiers.c.value).where(
    person_identifiers.c.person_id.in_(bindparam("ids", expanding=True))
)


def load(conn: Connection, ids: Iterable[str]) -> list[Candidate]:
    """The keys of ``ids``, grouped per record."""
    wanted = sorted(set(ids))
    rows: list[Any] = []
    for start in range(0, len(wanted), 900):  # SQLite's bound-parameter limit
        rows.extend(conn.execute(_LOADED, {"ids": wanted[start : start + 900]}).all())
    return _grouped(rows, _identifiers(conn, wanted))


def _identifiers(conn: Connection, wanted: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    held: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(wanted), 900):
        for row in conn.execute(_HELD, {"ids": wanted[start : start + 900]}):
            held.setdefault(row.person_id, []).append((row.type, row.value))
    return held


def _grouped(rows: Sequence[Any], held: dict[str, list[tuple[str, str]]]) -> list[Candidate]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.person_id, []).append(row)
    return [candidate_of(rows_, held.get(pid, [])) for pid, rows_ in grouped.items()]


def candidate_of(rows: Sequence[Any], identifiers: Sequence[tuple[str, str]]) -> Candidate:
    """One record's key rows (``SCORED`` columns, by ``seq``) and identifiers as a ``Candidate``."""
    first = rows[0]
    born = BirthDate(
        first.birth_year, first.birth_month, first.birth_day, first.born_earliest, first.born_latest
    )
    names = tuple(NameKeys(r.given, r.middle, r.family) for r in rows)
    return Candidate(first.person_id, names, born, first.gender, tuple(identifiers))
