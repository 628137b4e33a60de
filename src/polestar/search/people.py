"""Person search: blocking in SQL, then Fellegi-Sunter scoring of each candidate in Python.

Blocking rules (a candidate needs any one; each is an indexed lookup):

* same family-name code, and the same given initial or given-name group or birth year;
* given and family typed the other way round: the record's family-name code is the
  typed given name's, and its given initial is the typed family name's;
* the same given-name group and birth year (and month, if typed), or with no
  date of birth the same given-name group and family initial — catches a family
  name mistyped or respelt enough to change its code (Smith/Smyth);
* the birth year and month with both initials (either way round) — catches typos
  in both names at once;
* the full date of birth and either initial.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, and_, or_, select

from polestar.search.keys import BirthDate, NameKeys
from polestar.search.names import canonical, first_token, name_groups, normalise, phonetic
from polestar.search.query import Band, PersonMatch, PersonQuery
from polestar.search.scoring import FieldMatch, MatchModel, birth_level, family_level, given_level
from polestar.search.tables import person_identifiers, person_keys

CANDIDATE_LIMIT = 5000
"""Most candidate records one blocking rule may bring back."""


class Thresholds(BaseModel):
    """Where the bands start, in bits of Fellegi-Sunter weight, and how far below the best to show."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strong: float = Field(default=22.0, description="Score at or above which a result is strong.")
    possible: float = Field(default=10.0, description="Score at or above which a result is shown.")
    gap: float = Field(
        default=8.0,
        description="A result this many bits below the best one is not shown, whatever its band.",
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person record's keys as read back for scoring."""

    person_id: str
    names: tuple[NameKeys, ...]
    born: BirthDate
    gender: str
    identifiers: tuple[tuple[str, str], ...] = ()


def candidates(conn: Connection, query: PersonQuery) -> list[Candidate]:
    """Every record any blocking rule lets through, with all its names."""
    rules = _rules(query)
    if not rules:
        return []
    ids: set[str] = set()
    for rule in rules:
        found = conn.execute(
            select(person_keys.c.person_id).where(rule).distinct().limit(CANDIDATE_LIMIT)
        ).scalars()
        ids.update(found)
    return load(conn, ids)


def load(conn: Connection, ids: Iterable[str]) -> list[Candidate]:
    """The keys of ``ids``, grouped per record."""
    wanted = sorted(set(ids))
    rows: list[Any] = []
    for start in range(0, len(wanted), 900):  # SQLite's bound-parameter limit
        chunk = wanted[start : start + 900]
        rows.extend(
            conn.execute(
                select(person_keys).where(person_keys.c.person_id.in_(chunk)).order_by(person_keys.c.seq)
            ).all()
        )
    held: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(wanted), 900):
        t = person_identifiers.c
        for row in conn.execute(
            select(t.person_id, t.type, t.value).where(t.person_id.in_(wanted[start : start + 900]))
        ):
            held.setdefault(row.person_id, []).append((row.type, row.value))
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.person_id, []).append(row)
    return [_candidate(rows_, held.get(pid, [])) for pid, rows_ in grouped.items()]


def _candidate(rows: Sequence[Any], identifiers: Sequence[tuple[str, str]]) -> Candidate:
    first = rows[0]
    born = BirthDate(
        first.birth_year, first.birth_month, first.birth_day, first.born_earliest, first.born_latest
    )
    names = tuple(NameKeys(r.given, r.middle, r.family) for r in rows)
    return Candidate(first.person_id, names, born, first.gender, tuple(identifiers))


def _rules(query: PersonQuery) -> list[Any]:
    k = person_keys.c
    given = normalise(first_token(query.given))
    family = normalise(query.family)
    born = query.born()
    groups = sorted(name_groups(given) | {canonical(given)}) if given else []
    rules: list[Any] = []
    for wanted in query.identifiers:
        t = person_identifiers.c
        holders = select(t.person_id).where(t.type == wanted.type.value, t.value == wanted.value)
        rules.append(k.person_id.in_(holders))
    if family:
        also = [k.given_initial == given[:1], k.given_canon.in_(groups)] if given else []
        if born.year is not None:
            also.append(k.birth_year == born.year)
        rules.append(
            and_(k.family_code == phonetic(family), or_(*also)) if also else k.family_code == phonetic(family)
        )
    if given and family:
        rules.append(and_(k.family_code == phonetic(given), k.given_initial == family[:1]))
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
        rules.append(and_(k.given_canon.in_(groups), k.family_initial == family[:1]))
    if given and family and born.month is not None:
        initials = [
            and_(k.given_initial == given[:1], k.family_initial == family[:1]),
            and_(k.given_initial == family[:1], k.family_initial == given[:1]),
        ]
        rules.append(and_(k.birth_year == born.year, k.birth_month == born.month, or_(*initials)))
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
    return rules


def score(
    query: PersonQuery,
    candidate: Candidate,
    model: MatchModel,
    *,
    today: date | None = None,
    typed: NameKeys | None = None,
    born: BirthDate | None = None,
) -> PersonMatch:
    """The candidate's Fellegi-Sunter score against the query, with each field's part (band unset).

    ``typed`` and ``born`` are the query's name keys and date of birth, when the
    caller has them already (scoring many candidates for one query).
    """
    typed = typed or NameKeys.of(query.given, query.family)
    best: tuple[float, list[FieldMatch], NameKeys, bool] | None = None
    for name in candidate.names:
        for swapped in (False, True):
            given, family = (typed.family, typed.given) if swapped else (typed.given, typed.family)
            parts: list[FieldMatch] = []
            if given and name.given:
                level, why = given_level(given, name)
                parts.append(FieldMatch("given", level, model.weight("given", level), why))
            if family and name.family:
                level, why = family_level(family, name.family)
                parts.append(FieldMatch("family", level, model.weight("family", level), why))
            total = sum(p.weight for p in parts)
            if swapped:
                total -= model.swap_penalty
            if best is None or total > best[0]:
                best = (total, parts, name, swapped)
    assert best is not None
    total, parts, name, swapped = best
    parts = list(parts)
    if swapped:
        parts.append(
            FieldMatch("order", "swapped", -model.swap_penalty, "given and family names typed swapped")
        )
    birth = birth_level(born if born is not None else query.born(today), candidate.born)
    if birth is not None:
        parts.append(FieldMatch("birth", birth[0], model.weight("birth", birth[0]), birth[1]))
    held = dict(candidate.identifiers)
    for wanted in query.identifiers:
        kind = wanted.type.value
        if kind in held:
            level = "same" if held[kind] == wanted.value else "different"
            why = f"{kind} {wanted.value} {'agrees' if level == 'same' else 'differs from ' + held[kind]}"
            parts.append(FieldMatch("identifier", level, model.weight("identifier", level), why))
    if query.gender in {"1", "2"} and candidate.gender in {"1", "2"}:
        level = "same" if query.gender == candidate.gender else "different"
        parts.append(FieldMatch("gender", level, model.weight("gender", level), f"gender {level}"))
    total = sum(p.weight for p in parts)
    shown = " ".join(p for p in (name.given, name.family) if p)
    return PersonMatch(
        person_id=candidate.person_id,
        score=round(total, 3),
        band=Band.BELOW,
        matched_name=shown,
        swapped=swapped,
        fields=tuple(parts),
    )


def rank(
    query: PersonQuery, found: Iterable[Candidate], model: MatchModel, thresholds: Thresholds
) -> list[PersonMatch]:
    """Score, band, and keep what is shown: best first, ``limit`` at most."""
    typed, born = NameKeys.of(query.given, query.family), query.born()
    scored = sorted(
        (score(query, c, model, typed=typed, born=born) for c in found), key=lambda m: (-m.score, m.person_id)
    )
    if not scored:
        return []
    top = scored[0].score
    shown: list[PersonMatch] = []
    for match in scored:
        band = _band(match.score, thresholds)
        if not query.include_below and (band is Band.BELOW or match.score < top - thresholds.gap):
            continue
        shown.append(match.model_copy(update={"band": band}))
        if len(shown) >= query.limit:
            break
    return shown


def _band(value: float, thresholds: Thresholds) -> Band:
    if value >= thresholds.strong:
        return Band.STRONG
    if value >= thresholds.possible:
        return Band.POSSIBLE
    return Band.BELOW
