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
* the birth year and month (and day, if typed) with any typed initial in either
  place — catches a name replaced, mistyped or typed the other way round;
* typed the other way round, the typed family name's given-name group with the
  rules above that use a group (family initial, birth year and month) — catches
  a swapped query whose family name was respelt enough to change its code.

When both names were typed, two more rules let a record through whose other
name was replaced outright, but only when the model says such a record could
still be shown (a rare name agreeing, with the date of birth):

* the same family-name code alone;
* the same given-name group alone (also with the names typed the other way round,
  and the typed given name's family code, with the birth year).

A postcode, sector or outward code typed narrows every rule to the people linked
(as resident, or by a home-address link) to a location there, and adds three
rules of its own within that area: the family-name code, the given-name group,
and the family-name code of the typed given name (swapped). A current address
there counts for more than one whose link has ended (``ranking``).

Before blocking, the typed names' share of the index (``name_counts``) weighs
their exact agreement (term frequency: agreeing on a rare name counts for more
than on "Smith"). Unless results below "possible" are asked for, records that
could not score that much are not read at all (``bounds``); ``ranking`` scores
the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import CompoundSelect, Connection, and_, func, or_, select, union, union_all

from polestar.model.links import LinkRole
from polestar.model.timeutil import utcnow
from polestar.search.bounds import ScoreBounds
from polestar.search.keys import BirthDate, NameKeys
from polestar.search.names import canonical, first_token, name_groups, normalise, phonetic
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
    area = _area_people(query)
    if area is None:
        rules = _rules(query, conn, bounds)
    else:  # the area bounds the search, and a postcode agreeing is worth more than bounds allows for
        linked = select(area.subquery().c.person_id)
        rules = [and_(rule, person_keys.c.person_id.in_(linked)) for rule in _area_rules(query)]
    if not rules:
        return []
    k = person_keys.c
    parts = [select(k.person_id).where(rule).distinct().limit(CANDIDATE_LIMIT).subquery() for rule in rules]
    wanted = union(*(select(part.c.person_id) for part in parts))
    rows = conn.execute(select(*SCORED).where(k.person_id.in_(wanted)).order_by(k.person_id, k.seq)).all()
    held: dict[str, list[tuple[str, str]]] = {}
    if query.identifiers:
        held = _identifiers(conn, sorted({r.person_id for r in rows}))
    if area is not None and bounds is not None:
        bounds.scorer.use_addresses(_address_levels(conn, query, area, sorted({r.person_id for r in rows})))
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return [(rows_, held.get(pid, [])) for pid, rows_ in grouped.items()]


def _area_people(query: PersonQuery) -> CompoundSelect[Any] | None:
    """(person_id, valid_to) of every address link from a person to a location in the typed area."""
    area = query.area()
    if area is None:
        return None
    level, value = area
    at = select(location_keys.c.location_id).where(location_keys.c[level] == value)
    t = links.c
    roles = t.role.in_(ADDRESS_ROLES)
    return union_all(
        select(t.from_id.label("person_id"), t.valid_to).where(
            roles, t.from_kind == "person", t.to_id.in_(at)
        ),
        select(t.to_id.label("person_id"), t.valid_to).where(roles, t.to_kind == "person", t.from_id.in_(at)),
    )


def _area_rules(query: PersonQuery) -> list[Any]:
    """Within an area: the usual rules, and each typed name's code or group alone."""
    k = person_keys.c
    given = normalise(first_token(query.given))
    family = normalise(query.family)
    rules = _rules(query)
    if family:
        rules.append(k.family_code == phonetic(family))
    if given:
        rules.append(k.given_canon.in_(sorted(name_groups(given) | {canonical(given)})))
        rules.append(k.family_code == phonetic(given))  # typed the other way round
    return rules


def _address_levels(
    conn: Connection, query: PersonQuery, area: CompoundSelect[Any], ids: Sequence[str]
) -> dict[str, tuple[str, str]]:
    """Per person in ``ids``: the typed level if a current address is in the area, else ``former``."""
    typed = query.area()
    assert typed is not None
    level, value = typed
    moment = utcnow()
    current: dict[str, bool] = {}
    linked = area.subquery()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        for pid, valid_to in conn.execute(select(linked).where(linked.c.person_id.in_(chunk))):
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
    k = person_keys.c
    given = normalise(first_token(query.given))
    family = normalise(query.family)
    held = conn.info.get("polestar_search_counts", {}).get("")
    total = _count(conn, "", None, reuse=held is not None and held[0] >= COUNT_RECOUNT_BELOW)
    large = total >= COUNT_RECOUNT_BELOW
    given_count = family_count = None
    if given:
        given_count = _count(conn, "given:" + given, k.given_canon == canonical(given), reuse=large)
    if family:
        family_count = _count(conn, "family:" + family, k.family_code == phonetic(family), reuse=large)
    return total, given_count, family_count


def _count(conn: Connection, key: str, where: Any | None, *, reuse: bool) -> int:
    """Key rows matching ``where`` (all if None); with ``reuse``, a recent count kept under ``key``."""
    cache: dict[str, tuple[int, float]] = conn.info.setdefault("polestar_search_counts", {})
    now = time.monotonic()
    cached = cache.get(key)
    if reuse and cached is not None and now - cached[1] < COUNT_CACHE_SECONDS:
        return cached[0]
    statement = select(func.count()).select_from(person_keys)
    found = int(conn.execute(statement if where is None else statement.where(where)).scalar_one())
    if len(cache) >= COUNT_CACHE_SIZE:
        cache.clear()
    cache[key] = (found, now)
    return found


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


def _replaced_name_rules(
    query: PersonQuery, given: str, family: str, groups: Sequence[str], bounds: ScoreBounds | None
) -> list[Any]:
    """Rules for a record whose other name was replaced outright, when it could still be shown.

    Only with ``bounds`` (the weights, term frequency included, say whether one
    name agreeing exactly, the other differing and the best the date of birth
    allows can reach the cut-off): a common name never qualifies, so these stay
    small lookups.
    """
    if bounds is None or not (given and family):
        return []
    k = person_keys.c
    born = query.born()
    w = bounds.scorer.weights
    rest = bounds.birth_max + bounds.gender_max

    def reachable(agrees: str, differs: str) -> bool:
        return w[agrees]["exact"] + w[differs]["different"] + rest >= bounds.floor

    rules: list[Any] = []
    if reachable("given", "family"):
        same = k.given_canon.in_(groups)
        rules.append(same if born.year is None else and_(same, k.birth_year == born.year))
    if born.year is None and reachable("family", "given"):  # with a year, family code and year holds it
        rules.append(k.family_code == phonetic(family))
    return rules


def _swapped_rules(
    query: PersonQuery,
    given: str,
    family: str,
    bounds: ScoreBounds | None,
    narrowed: Callable[[Any, Any, Callable[[str, bool], float]], Any | None],
) -> list[Any]:
    """The same-group and replaced-name rules for names typed the other way round.

    A family name typed as the given name keeps its given-name group, so a
    record is found whose family name was mistyped enough to change its code
    (McCarrhy Timothy), or replaced outright when a rare name and the birth year
    could still be shown (the replaced rules' test, less the swap penalty).
    """
    if not (given and family):
        return []
    k = person_keys.c
    born = query.born()
    groups = sorted(name_groups(family) | {canonical(family)})
    same: list[Any] = [k.given_canon.in_(groups)]
    rules: list[Any] = []
    if born.year is None:
        respelt = and_(*same, k.family_initial == given[:1])
        rules.append(narrowed(respelt, k.family, bounds.family_value) if bounds else respelt)
        return rules
    same.append(k.birth_year == born.year)
    month = k.birth_month == born.month if born.month is not None else k.family_initial == given[:1]
    rules.append(and_(*same, month))
    if bounds is not None:
        w = bounds.scorer.weights
        rest = bounds.birth_max + bounds.gender_max - bounds.scorer.swap
        if w["given"]["exact"] + w["family"]["different"] + rest >= bounds.floor:
            rules.append(and_(*same))
        if w["family"]["exact"] + w["given"]["different"] + rest >= bounds.floor:
            rules.append(and_(k.family_code == phonetic(given), k.birth_year == born.year))
    return rules


def _born_rule(born: BirthDate, given: str, family: str) -> Any:
    """Born in the typed month (or on the day) with any typed initial in either place.

    Catches a name replaced, mistyped or typed the other way round; a month of
    births is a few thousand records at a million people, an initial a tenth of that.
    """
    k = person_keys.c
    letters = sorted({name[:1] for name in (given, family) if name})
    when = [k.birth_year == born.year, k.birth_month == born.month]
    if born.day is not None:
        when.append(k.birth_day == born.day)
    return and_(*when, or_(k.given_initial.in_(letters), k.family_initial.in_(letters)))


def _rules(  # noqa: PLR0912 - one branch per blocking rule
    query: PersonQuery, conn: Connection | None = None, bounds: ScoreBounds | None = None
) -> list[Any]:
    k = person_keys.c
    given = normalise(first_token(query.given))
    family = normalise(query.family)
    born = query.born()
    groups = sorted(name_groups(given) | {canonical(given)}) if given else []
    weighed = bounds  # the weights and cut-off, also when they may not prune
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
    rules.extend(_replaced_name_rules(query, given, family, groups, weighed))
    rules.extend(_swapped_rules(query, given, family, weighed, narrowed))
    if given and family and born.year is not None:  # typos in both names: the initials, either way round
        for first, last in ((given, family), (family, given)):
            rules.append(
                and_(k.birth_year == born.year, k.given_initial == first[:1], k.family_initial == last[:1])
            )
    if born.month is not None and (family or given):
        rules.append(_born_rule(born, given, family))
    return [rule for rule in rules if rule is not None]
