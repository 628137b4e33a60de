"""Person search: blocking in SQL, then Fellegi-Sunter scoring of each candidate in Python.

Blocking rules (a candidate needs any one; each is an indexed lookup):

* same family-name code, and the same given initial or given-name group or birth year;
* given and family typed the other way round: the record's family-name code is the
  typed given name's, and its given initial is the typed family name's;
* the same given-name group and birth year (and month, if typed), or with no
  date of birth the same given-name group and family initial — catches a family
  name mistyped or respelt enough to change its code (Smith/Smyth);
* the birth year with both initials (either way round) — catches typos in both
  names at once;
* the full date of birth and either initial.

Unless results below "possible" are asked for, records that could not score
that much are not read at all (``bounds``); ``ranking`` scores the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, or_, select, union

from polestar.search.bounds import ScoreBounds
from polestar.search.keys import BirthDate, NameKeys
from polestar.search.names import canonical, first_token, name_groups, normalise, phonetic
from polestar.search.query import PersonQuery
from polestar.search.ranking import Candidate, QueryScorer, Thresholds, rank, score
from polestar.search.tables import person_identifiers, person_keys

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
    With ``bounds``, and unless the query asks for results below "possible", a
    broad rule first reads the distinct names it would bring back (from its index)
    and records that could not reach the cut-off stay in the database
    (``bounds.ScoreBounds``).
    """
    rules = _rules(query, conn, bounds)
    if not rules:
        return []
    k = person_keys.c
    parts = [select(k.person_id).where(rule).distinct().limit(CANDIDATE_LIMIT).subquery() for rule in rules]
    wanted = union(*(select(part.c.person_id) for part in parts))
    rows = conn.execute(select(*SCORED).where(k.person_id.in_(wanted)).order_by(k.person_id, k.seq)).all()
    held: dict[str, list[tuple[str, str]]] = {}
    if query.identifiers:
        held = _identifiers(conn, sorted({r.person_id for r in rows}))
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return [(rows_, held.get(pid, [])) for pid, rows_ in grouped.items()]


def load(conn: Connection, ids: Iterable[str]) -> list[Candidate]:
    """The keys of ``ids``, grouped per record."""
    wanted = sorted(set(ids))
    rows: list[Any] = []
    for start in range(0, len(wanted), 900):  # SQLite's bound-parameter limit
        chunk = wanted[start : start + 900]
        rows.extend(
            conn.execute(
                select(*SCORED)
                .where(person_keys.c.person_id.in_(chunk))
                .order_by(person_keys.c.person_id, person_keys.c.seq)
            ).all()
        )
    return _grouped(rows, _identifiers(conn, wanted))


def _identifiers(conn: Connection, wanted: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    held: dict[str, list[tuple[str, str]]] = {}
    t = person_identifiers.c
    for start in range(0, len(wanted), 900):
        for row in conn.execute(
            select(t.person_id, t.type, t.value).where(t.person_id.in_(wanted[start : start + 900]))
        ):
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


def _rules(  # noqa: PLR0912 - one branch per blocking rule
    query: PersonQuery, conn: Connection | None = None, bounds: ScoreBounds | None = None
) -> list[Any]:
    k = person_keys.c
    given = normalise(first_token(query.given))
    family = normalise(query.family)
    born = query.born()
    groups = sorted(name_groups(given) | {canonical(given)}) if given else []
    if conn is None or bounds is None or query.include_below or not bounds.usable:
        bounds = None
    elif bounds.hopeless():
        return []

    def narrowed(base: Any, column: Any, value_max: Callable[[str, bool], float]) -> Any | None:
        if bounds is None or conn is None:
            return base
        values = conn.execute(select(column).where(base).distinct()).scalars().all()
        keep = bounds.narrowed(column, values, value_max)
        return None if keep is None else and_(base, keep)

    rules: list[Any] = []
    for wanted in query.identifiers:
        t = person_identifiers.c
        holders = select(t.person_id).where(t.type == wanted.type.value, t.value == wanted.value)
        rules.append(k.person_id.in_(holders))
    if family:
        code = phonetic(family)
        if given:
            rules.append(and_(k.family_code == code, k.given_canon.in_(groups)))
            initial = and_(k.family_code == code, k.given_initial == given[:1])
            rules.append(narrowed(initial, k.given, bounds.given_value) if bounds else initial)
        if born.year is not None:
            rules.append(and_(k.family_code == code, k.birth_year == born.year))
        elif not given:
            rules.append(k.family_code == code)
    if given and family:  # typed the other way round
        swapped = and_(k.family_code == phonetic(given), k.given_initial == family[:1])
        rules.append(narrowed(swapped, k.given, bounds.given_value) if bounds else swapped)
    if given and born.year is not None:
        same = [k.given_canon.in_(groups), k.birth_year == born.year]
        if born.month is not None:
            same.append(k.birth_month == born.month)
        elif family:
            same.append(k.family_initial == family[:1])
        rules.append(and_(*same))
    if given and not family:
        rules.append(k.given_canon.in_(groups))
    elif given and born.year is None:
        respelt = and_(k.given_canon.in_(groups), k.family_initial == family[:1])
        rules.append(narrowed(respelt, k.family, bounds.family_value) if bounds else respelt)
    if given and family and born.year is not None:  # typos in both names: the initials, either way round
        for first, last in ((given, family), (family, given)):
            rules.append(
                and_(k.birth_year == born.year, k.given_initial == first[:1], k.family_initial == last[:1])
            )
    if born.day is not None and (family or given):
        initials = [k.family_initial == (family or given)[:1], k.given_initial == (given or family)[:1]]
        rules.append(
            and_(
                k.birth_year == born.year,
                k.birth_month == born.month,
                k.birth_day == born.day,
                or_(*initials),
            )
        )
    return [rule for rule in rules if rule is not None]
