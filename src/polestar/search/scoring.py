"""Fellegi-Sunter scoring of a query against a person record, field by field.

Each field comparison lands on one *level* (``exact``, ``nickname``, ``close``...).
Each level has two probabilities: ``m``, that a true match shows it, and ``u``,
that a non-match does. The level's weight is ``log2(m / u)`` bits; a record's
score is the sum over the fields the query gave (a field the query or the record
lacks adds nothing). ``weights.estimate`` refines the defaults from the data
with EM.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from polestar.search.keys import BirthDate, NameKeys
from polestar.search.names import same_group

LevelProbabilities = Mapping[str, tuple[float, float]]
"""level -> (m, u)."""

# ``different`` keeps some m: a true match's name can be wholly other than the one typed (a
# middle name used, an anglicised or married name, a clerical slip), and an m near zero would
# make one such name outweigh a date of birth agreeing to the day.
GIVEN_LEVELS: dict[str, tuple[float, float]] = {
    "exact": (0.78, 0.02),
    "nickname": (0.08, 0.004),
    "close": (0.05, 0.003),
    "fuzzy": (0.03, 0.02),
    "middle": (0.01, 0.004),
    "initial": (0.01, 0.05),
    "different": (0.05, 0.899),
}
FAMILY_LEVELS: dict[str, tuple[float, float]] = {
    "exact": (0.84, 0.005),
    "close": (0.08, 0.003),
    "fuzzy": (0.03, 0.01),
    "different": (0.05, 0.982),
}
BIRTH_LEVELS: dict[str, tuple[float, float]] = {
    "exact": (0.92, 0.00005),
    "month": (0.95, 0.0013),
    "year": (0.96, 0.016),
    "near": (0.05, 0.0005),
    "in_range": (0.97, 0.15),
    "different": (0.03, 0.98),
}
GENDER_LEVELS: dict[str, tuple[float, float]] = {"same": (0.98, 0.5), "different": (0.02, 0.5)}
IDENTIFIER_LEVELS: dict[str, tuple[float, float]] = {"same": (0.95, 1e-7), "different": (0.01, 0.9999)}
"""Strong identifiers are check-digit validated, so a true match rarely shows a different one."""
ADDRESS_LEVELS: dict[str, tuple[float, float]] = {
    "postcode": (0.5, 1e-5),
    "sector": (0.6, 2e-4),
    "outward": (0.7, 1e-3),
    "former": (0.2, 1e-3),
}
"""A typed postcode against the person's linked addresses: the level typed agrees with a current
address, or only with one the link says has ended. ``u``: the share of people linked to one full
postcode (about 1.7 million in the UK), sector (about 11,000) or outward code (about 3,000)."""

FREQUENCY_PRIOR = 200.0
"""Records' worth of weight the model's average ``u`` keeps against the index's own counts.

A name's own share of the index says how often a stranger shares it (a rare
family name agreeing is worth more than "Smith"), but a small index's counts are
noisy: shrinking towards the model's average ``u`` as if it had been seen in
this many records keeps a handful of test records from swinging the weights.
"""


@dataclass(frozen=True, slots=True)
class MatchModel:
    """m/u probabilities per field and level, the bands' cut-offs and the swap penalty (bits)."""

    given: LevelProbabilities = field(default_factory=lambda: dict(GIVEN_LEVELS))
    family: LevelProbabilities = field(default_factory=lambda: dict(FAMILY_LEVELS))
    birth: LevelProbabilities = field(default_factory=lambda: dict(BIRTH_LEVELS))
    gender: LevelProbabilities = field(default_factory=lambda: dict(GENDER_LEVELS))
    identifier: LevelProbabilities = field(default_factory=lambda: dict(IDENTIFIER_LEVELS))
    address: LevelProbabilities = field(default_factory=lambda: dict(ADDRESS_LEVELS))
    swap_penalty: float = 1.0

    def fields(self) -> dict[str, LevelProbabilities]:
        """Field name -> its levels."""
        return {
            "given": self.given,
            "family": self.family,
            "birth": self.birth,
            "gender": self.gender,
            "identifier": self.identifier,
            "address": self.address,
        }

    def with_levels(self, name: str, levels: LevelProbabilities) -> MatchModel:
        """A copy with one field's levels replaced."""
        fields = self.fields()
        fields[name] = dict(levels)
        return MatchModel(**fields, swap_penalty=self.swap_penalty)

    def weight(self, name: str, level: str) -> float:
        """``log2(m/u)`` for a field's level."""
        m, u = self.fields()[name][level]
        return math.log2(max(m, 1e-9) / max(u, 1e-9))


def value_u(count: int, total: int, u: float, prior: float = FREQUENCY_PRIOR) -> float:
    """``u`` of exact agreement on one value held by ``count`` of ``total`` records (term frequency).

    The value's share of the index, shrunk towards the model's average ``u`` by
    ``prior`` pseudo-records (empirical Bayes), so an index of five records keeps
    nearly the model's weights and one of a million speaks for itself.
    """
    return (max(count, 0) + prior * u) / (max(total, 0) + prior)


@dataclass(frozen=True, slots=True)
class FieldMatch:
    """Why one field added what it did to a result's score."""

    field: str
    level: str
    weight: float
    detail: str


def _similar(a: str, b: str) -> float:
    return max(JaroWinkler.similarity(a, b), DamerauLevenshtein.normalized_similarity(a, b))


def given_level(query: str, record: NameKeys) -> tuple[str, str]:  # noqa: PLR0911 - one return per level
    """Compare a typed given name with a record's; (level, why)."""
    name = record.given
    if query == name:
        return "exact", f"given name {name!r} is the same"
    if same_group(query, name):
        return "nickname", f"{query!r} and {name!r} are forms of one name"
    similarity = _similar(query, name) if len(query) > 1 and len(name) > 1 else 0.0
    if similarity >= 0.9:
        return "close", f"given name {query!r} is spelt like {name!r}"
    if query in record.middle.split():
        return "middle", f"{query!r} is a middle name of the record"
    if similarity >= 0.8:
        return "fuzzy", f"given name {query!r} is like {name!r}"
    if query[:1] == name[:1] and (len(query) == 1 or len(name) == 1):
        return "initial", f"initial {query[:1].upper()} agrees"
    return "different", f"given name {query!r} differs from {name!r}"


def family_level(query: str, record: str) -> tuple[str, str]:
    """Compare a typed family name with a record's; (level, why)."""
    if query == record:
        return "exact", f"family name {record!r} is the same"
    similarity = _similar(query, record)
    if similarity >= 0.9:
        return "close", f"family name {query!r} is spelt like {record!r}"
    if similarity >= 0.8:
        return "fuzzy", f"family name {query!r} is like {record!r}"
    return "different", f"family name {query!r} differs from {record!r}"


def birth_level(query: BirthDate, record: BirthDate) -> tuple[str, str] | None:  # noqa: PLR0911 - per level
    """Compare what the query knows of a date of birth with the record's; None if either knows nothing."""
    if not query.known or not record.known:
        return None
    if query.year is None:  # an age band: the record must be able to fall in it
        assert query.earliest is not None
        assert query.latest is not None
        first, last = _bounds(record)
        if first <= query.latest and last >= query.earliest:
            return "in_range", f"born {_span(record)}, within {query.earliest}..{query.latest}"
        return "different", f"born {_span(record)}, outside {query.earliest}..{query.latest}"
    if record.year is None:  # the record holds only a range
        first, last = _bounds(record)
        assert query.earliest is not None
        assert query.latest is not None
        if first <= query.latest and last >= query.earliest:
            return "in_range", f"record's range {first}..{last} allows {_span(query)}"
        return "different", f"record's range {first}..{last} excludes {_span(query)}"
    pairs = [(query.year, record.year), (query.month, record.month), (query.day, record.day)]
    shared = [(a, b) for a, b in pairs if a is not None and b is not None]
    agree = sum(a == b for a, b in shared)
    if agree == len(shared):
        level = ("year", "month", "exact")[len(shared) - 1]
        return level, f"date of birth agrees to the {('year', 'month', 'day')[len(shared) - 1]}"
    if len(shared) == 3:
        swapped = query.month == record.day and query.day == record.month and query.year == record.year
        if swapped or agree == 2:
            return "near", f"date of birth {_span(query)} is one slip from {_span(record)}"
    return "different", f"date of birth {_span(query)} differs from {_span(record)}"


def birth_level_only(query: BirthDate, record: BirthDate) -> str | None:
    """``birth_level``'s level alone, without building its reason (scoring many candidates)."""
    if not query.known or not record.known:
        return None
    if query.year is None or record.year is None:
        found = birth_level(query, record)
        return found[0] if found else None
    shared = 0
    agree = 0
    for a, b in ((query.year, record.year), (query.month, record.month), (query.day, record.day)):
        if a is not None and b is not None:
            shared += 1
            agree += a == b
    if agree == shared:
        return ("year", "month", "exact")[shared - 1]
    if shared == 3 and (
        agree == 2 or (query.month == record.day and query.day == record.month and query.year == record.year)
    ):
        return "near"
    return "different"


def _bounds(value: BirthDate) -> tuple[date, date]:
    assert value.earliest is not None
    assert value.latest is not None
    return value.earliest, value.latest


def _span(value: BirthDate) -> str:
    if value.year is not None:
        return "-".join(f"{p:02d}" for p in (value.year, value.month, value.day) if p is not None)
    first, last = _bounds(value)
    return f"{first}..{last}"
