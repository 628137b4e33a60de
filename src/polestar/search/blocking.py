"""Person search's blocking rules: which records a query reads before scoring.

A candidate needs any one rule; each is an indexed lookup:

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
to a location there (``people``), and adds three rules of its own within that
area: the family-name code, the given-name group, and the family-name code of
the typed given name (swapped).

A rule is a ``Rule``: a kind, whose condition is built once with bind
parameters (``condition``), and the values this query binds to it. Building
SQLAlchemy expressions per query cost more CPU than SQLite took to answer them,
so ``people`` assembles a statement once per sequence of kinds and reuses it.
The one part that stays per query is ``keep``, ``bounds.ScoreBounds.narrowed``'s
condition on the names a broad rule may bring back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Connection, Select, and_, bindparam, or_, select

from polestar.search.bounds import ScoreBounds
from polestar.search.keys import BirthDate
from polestar.search.names import canonical, first_token, name_groups, normalise, phonetic
from polestar.search.query import PersonQuery
from polestar.search.tables import person_identifiers, person_keys

__all__ = ["KINDS", "Rule", "area_rules", "condition", "rules"]

_LISTS = frozenset({"groups", "letters"})
"""Parameters bound to a list (an expanding ``IN``)."""

Bind = Callable[[str], BindParameter[Any]]

_k = person_keys.c
_t = person_identifiers.c

KINDS: Mapping[str, Callable[[Bind], ColumnElement[bool]]] = {
    "identifier": lambda b: _k.person_id.in_(
        select(_t.person_id).where(_t.type == b("type"), _t.value == b("value"))
    ),
    "family": lambda b: _k.family_code == b("code"),
    "family+groups": lambda b: and_(_k.family_code == b("code"), _k.given_canon.in_(b("groups"))),
    "family+initial": lambda b: and_(_k.family_code == b("code"), _k.given_initial == b("initial")),
    "family+year": lambda b: and_(_k.family_code == b("code"), _k.birth_year == b("year")),
    "groups": lambda b: _k.given_canon.in_(b("groups")),
    "groups+year": lambda b: and_(_k.given_canon.in_(b("groups")), _k.birth_year == b("year")),
    "groups+year+month": lambda b: and_(
        _k.given_canon.in_(b("groups")), _k.birth_year == b("year"), _k.birth_month == b("month")
    ),
    "groups+year+family initial": lambda b: and_(
        _k.given_canon.in_(b("groups")), _k.birth_year == b("year"), _k.family_initial == b("initial")
    ),
    "groups+family initial": lambda b: and_(
        _k.given_canon.in_(b("groups")), _k.family_initial == b("initial")
    ),
    "year+initials": lambda b: and_(
        _k.birth_year == b("year"), _k.given_initial == b("given"), _k.family_initial == b("family")
    ),
    "month+letters": lambda b: and_(
        _k.birth_year == b("year"),
        _k.birth_month == b("month"),
        or_(_k.given_initial.in_(b("letters")), _k.family_initial.in_(b("letters"))),
    ),
    "day+letters": lambda b: and_(
        _k.birth_year == b("year"),
        _k.birth_month == b("month"),
        _k.birth_day == b("day"),
        or_(_k.given_initial.in_(b("letters")), _k.family_initial.in_(b("letters"))),
    ),
}
"""Each kind of rule's condition on ``search_person_keys``, from its named parameters."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One blocking rule of a query: its kind, the values bound to it, and a condition of its own.

    ``keep`` (from ``ScoreBounds.narrowed``) holds the records whose names can
    still reach the cut-off; None when the rule is not narrowed.
    """

    kind: str
    values: Mapping[str, Any]
    keep: ColumnElement[bool] | None = field(default=None, compare=False)


def condition(kind: str, prefix: str = "") -> ColumnElement[bool]:
    """``kind``'s condition, its parameters named ``prefix`` + name (one statement may hold a kind twice)."""

    def bind(name: str) -> BindParameter[Any]:
        return bindparam(prefix + name, expanding=name in _LISTS)

    return KINDS[kind](bind)


@cache
def _values_of(kind: str, column: str) -> Select[Any]:
    """The distinct values of ``column`` among the key rows ``kind`` lets through (built once)."""
    return select(person_keys.c[column]).where(condition(kind)).distinct()


def _groups(name: str) -> list[str]:
    return sorted(name_groups(name) | {canonical(name)})


def area_rules(query: PersonQuery) -> list[Rule]:
    """Within an area: the usual rules, and each typed name's code or group alone."""
    given = normalise(first_token(query.given))
    family = normalise(query.family)
    found = rules(query)
    if family:
        found.append(Rule("family", {"code": phonetic(family)}))
    if given:
        found.append(Rule("groups", {"groups": _groups(given)}))
        found.append(Rule("family", {"code": phonetic(given)}))  # typed the other way round
    return found


Narrow = Callable[[Rule, str], Rule | None]
"""A rule narrowed to the records whose ``given`` or ``family`` name can still reach the cut-off (or None)."""


def _replaced_name_rules(
    query: PersonQuery,
    given: str,
    family: str,
    groups: Sequence[str],
    bounds: ScoreBounds | None,
) -> list[Rule]:
    """Rules for a record whose other name was replaced outright, when it could still be shown.

    Only with ``bounds`` (the weights, term frequency included, say whether one
    name agreeing exactly, the other differing and the best the date of birth
    allows can reach the cut-off): a common name never qualifies, so these stay
    small lookups.
    """
    if bounds is None or not (given and family):
        return []
    born = query.born()
    w = bounds.scorer.weights
    rest = bounds.birth_max + bounds.gender_max

    def reachable(agrees: str, differs: str) -> bool:
        return w[agrees]["exact"] + w[differs]["different"] + rest >= bounds.floor

    found: list[Rule] = []
    if reachable("given", "family"):
        if born.year is None:
            found.append(Rule("groups", {"groups": groups}))
        else:
            found.append(Rule("groups+year", {"groups": groups, "year": born.year}))
    if born.year is None and reachable("family", "given"):  # with a year, family code and year holds it
        found.append(Rule("family", {"code": phonetic(family)}))
    return found


def _swapped_rules(
    query: PersonQuery,
    given: str,
    family: str,
    bounds: ScoreBounds | None,
    narrowed: Narrow,
) -> list[Rule | None]:
    """The same-group and replaced-name rules for names typed the other way round.

    A family name typed as the given name keeps its given-name group, so a
    record is found whose family name was mistyped enough to change its code
    (McCarrhy Timothy), or replaced outright when a rare name and the birth year
    could still be shown (the replaced rules' test, less the swap penalty).
    """
    if not (given and family):
        return []
    born = query.born()
    groups = _groups(family)
    if born.year is None:
        respelt = Rule("groups+family initial", {"groups": groups, "initial": given[:1]})
        return [narrowed(respelt, "family") if bounds else respelt]
    same = {"groups": groups, "year": born.year}
    found: list[Rule | None] = []
    if born.month is not None:
        found.append(Rule("groups+year+month", {**same, "month": born.month}))
    else:
        found.append(Rule("groups+year+family initial", {**same, "initial": given[:1]}))
    if bounds is not None:
        w = bounds.scorer.weights
        rest = bounds.birth_max + bounds.gender_max - bounds.scorer.swap
        if w["given"]["exact"] + w["family"]["different"] + rest >= bounds.floor:
            found.append(Rule("groups+year", same))
        if w["family"]["exact"] + w["given"]["different"] + rest >= bounds.floor:
            found.append(Rule("family+year", {"code": phonetic(given), "year": born.year}))
    return found


def _born_rule(born: BirthDate, given: str, family: str) -> Rule:
    """Born in the typed month (or on the day) with any typed initial in either place.

    Catches a name replaced, mistyped or typed the other way round; a month of
    births is a few thousand records at a million people, an initial a tenth of that.
    """
    letters = sorted({name[:1] for name in (given, family) if name})
    when = {"year": born.year, "month": born.month, "letters": letters}
    if born.day is not None:
        return Rule("day+letters", {**when, "day": born.day})
    return Rule("month+letters", when)


def rules(  # noqa: PLR0912 - one branch per blocking rule
    query: PersonQuery, conn: Connection | None = None, bounds: ScoreBounds | None = None
) -> list[Rule]:
    """The rules of ``query``, in order; with ``conn`` and a usable ``bounds``, broad ones narrowed.

    Without ``bounds``, or when results below the cut-off are asked for, no rule
    is narrowed and the replaced-name rules stay out.
    """
    given = normalise(first_token(query.given))
    family = normalise(query.family)
    born = query.born()
    groups = _groups(given) if given else []
    weighed = bounds  # the weights and cut-off, also when they may not prune
    if conn is None or bounds is None or query.include_below or not bounds.usable:
        bounds = None
    elif bounds.hopeless():
        return []

    def narrowed(base: Rule, column: str) -> Rule | None:
        if bounds is None or conn is None:
            return base
        values = conn.execute(_values_of(base.kind, column), dict(base.values)).scalars().all()
        value_max = bounds.given_value if column == "given" else bounds.family_value
        keep = bounds.narrowed(person_keys.c[column], values, value_max)
        return None if keep is None else Rule(base.kind, base.values, keep)

    found: list[Rule | None] = [
        Rule("identifier", {"type": wanted.type.value, "value": wanted.value}) for wanted in query.identifiers
    ]
    if family:
        code = phonetic(family)
        if given:
            found.append(Rule("family+groups", {"code": code, "groups": groups}))
            initial = Rule("family+initial", {"code": code, "initial": given[:1]})
            found.append(narrowed(initial, "given") if bounds else initial)
        if born.year is not None:
            found.append(Rule("family+year", {"code": code, "year": born.year}))
        elif not given:
            found.append(Rule("family", {"code": code}))
    if given and family:  # typed the other way round
        swapped = Rule("family+initial", {"code": phonetic(given), "initial": family[:1]})
        found.append(narrowed(swapped, "given") if bounds else swapped)
    if given and born.year is not None:
        same = {"groups": groups, "year": born.year}
        if born.month is not None:
            found.append(Rule("groups+year+month", {**same, "month": born.month}))
        elif family:
            found.append(Rule("groups+year+family initial", {**same, "initial": family[:1]}))
        else:
            found.append(Rule("groups+year", same))
    if given and not family:
        found.append(Rule("groups", {"groups": groups}))
    elif given and born.year is None:
        respelt = Rule("groups+family initial", {"groups": groups, "initial": family[:1]})
        found.append(narrowed(respelt, "family") if bounds else respelt)
    found.extend(_replaced_name_rules(query, given, family, groups, weighed))
    found.extend(_swapped_rules(query, given, family, weighed, narrowed))
    if given and family and born.year is not None:  # typos in both names: the initials, either way round
        for first, last in ((given, family), (family, given)):
            found.append(Rule("year+initials", {"year": born.year, "given": first[:1], "family": last[:1]}))
    if born.month is not None and (family or given):
        found.append(_born_rule(born, given, family))
    return [rule for rule in found if rule is not None]
