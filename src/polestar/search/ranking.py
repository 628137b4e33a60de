"""Fellegi-Sunter scoring of blocked candidates against one query, and their ranking.

A query is scored against hundreds or thousands of candidates, most of which
share a handful of distinct given names, family names and dates of birth. A
``QueryScorer`` compares each distinct value once (the comparison and its reason
are cached for the query) and adds up the cached weights, so a candidate costs a
few dictionary look-ups. Only the results that will be shown are turned into
``PersonMatch`` objects with their per-field explanations; the ranking itself
uses the very same sums, so it is exactly the ranking the explanations give.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from polestar.search.keys import BirthDate, NameKeys
from polestar.search.query import Band, PersonMatch, PersonQuery
from polestar.search.scoring import (
    FieldMatch,
    MatchModel,
    birth_level,
    birth_level_only,
    family_level,
    given_level,
    value_u,
)

T = TypeVar("T")
WEAK_WHY = (
    "below 'possible': shown unasked only as the clear best, when nothing scored 'possible' and "
    "no other record scored near it"
)
"""The explanation a weak result carries (field ``band``, weight 0)."""
Part = tuple[str, str, float, str]
"""One field's contribution: (field, level, weight in bits, why)."""


class Thresholds(BaseModel):
    """Where the bands start, in bits of Fellegi-Sunter weight, and how far below the best to show.

    Strong and possible results are shown. A *weak* one (from ``weak`` up to
    ``possible``) is shown only when it is the query's clear best: nothing scored
    "possible", no other record came within ``clear`` bits of it, and the query
    gave two things to agree on (both names, or a name and a date of birth). One
    result at most, marked as weak: a record whose date of birth was mis-stated
    or whose other name was replaced is found, and a name shared by several
    records still shows nothing.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    strong: float = Field(default=22.0, description="Score at or above which a result is strong.")
    possible: float = Field(default=10.0, description="Score at or above which a result is shown.")
    gap: float = Field(
        default=8.0,
        description="A result this many bits below the best one is not shown, whatever its band.",
    )
    weak: float = Field(
        default=7.0,
        description="Score from which a result below 'possible' is weak: shown when it is the clear best.",
    )
    clear: float = Field(
        default=3.0,
        description="How many bits a weak result must score above every other record to be shown.",
    )

    def band(self, value: float) -> Band:
        """The band a score falls in."""
        if value >= self.strong:
            return Band.STRONG
        if value >= self.possible:
            return Band.POSSIBLE
        if value >= self.weak:
            return Band.WEAK
        return Band.BELOW

    def read_floor(self, query: PersonQuery) -> float:
        """The least a record must be able to score to change what ``query`` shows.

        "possible", or, when a weak result may be shown, ``clear`` bits below
        ``weak``: a record scoring that much could stand in a weak one's way.
        Score bounds (``bounds.ScoreBounds``) leave records that cannot reach it
        in the database.
        """
        if not weak_applies(query) or self.weak >= self.possible:
            return self.possible
        return min(self.possible, self.weak - self.clear)


def weak_applies(query: PersonQuery) -> bool:
    """True if a weak result may be shown for ``query``: both names, or a name and a date of birth.

    One name alone is shared by everyone who holds it; standing clear on it
    says only that the index holds few of them.
    """
    named = bool(query.given) + bool(query.family)
    return named == 2 or (named == 1 and query.date_of_birth is not None)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A person record's keys as read back for scoring."""

    person_id: str
    names: tuple[NameKeys, ...]
    born: BirthDate
    gender: str
    identifiers: tuple[tuple[str, str], ...] = ()


class QueryScorer:
    """Scores candidates against one query, comparing each distinct value once.

    Args:
        query: what was typed.
        model: the m/u probabilities.
        today: the day an age range is counted from (today by default).
        typed: the query's name keys, if the caller has them already.
        born: the query's date of birth, if the caller has it already.
    """

    def __init__(
        self,
        query: PersonQuery,
        model: MatchModel,
        *,
        today: date | None = None,
        typed: NameKeys | None = None,
        born: BirthDate | None = None,
    ) -> None:
        self.query = query
        self.model = model
        self.typed = typed or NameKeys.of(query.given, query.family)
        self.born = born if born is not None else query.born(today)
        self.weights = {
            name: {level: model.weight(name, level) for level in levels}
            for name, levels in model.fields().items()
        }
        self.swap = model.swap_penalty
        self._names: dict[tuple[str, str, str], tuple[float, list[Part], bool]] = {}
        self._birth: dict[tuple[object, ...], Part | None] = {}
        self._birth_weights: dict[tuple[object, ...], float | None] = {}
        self._given: dict[tuple[str, str, str], Part] = {}
        self._family: dict[tuple[str, str], Part] = {}
        self._address: dict[str, Part] = {}
        self._gender: dict[str, Part | None] = {
            held: self._gender_part(held) for held in ("0", "1", "2", "9")
        }

    def use_frequencies(self, total: int, given: int | None, family: int | None) -> None:
        """Weigh exact agreement on the typed names by how many of ``total`` key rows share them.

        ``given``: rows whose given name is in the typed one's group; ``family``:
        rows whose family name has its phonetic code (None: not typed). A group or
        code stands in for the exact value so that the count is one indexed seek;
        it can only overstate how common a name is, so the weight errs low. A name
        rarer than the model's average counts for more; a commoner one keeps the
        model's weight, which the cut-offs were set with (lowering it would hide a
        common name typed without a date of birth, on the synthetic data). Call
        before scoring anything (the caches hold weights); the swapped reading uses
        the same weights. ``scoring.value_u`` turns a count into ``u``.
        """
        for name, count in (("given", given), ("family", family)):
            if count is None:
                continue
            m, u = self.model.fields()[name]["exact"]
            rarer = min(u, value_u(count, total, u))
            self.weights[name]["exact"] = math.log2(max(m, 1e-9) / max(rarer, 1e-9))
        self._names.clear()
        self._given.clear()
        self._family.clear()

    def use_addresses(self, found: dict[str, tuple[str, str]]) -> None:
        """Each record's agreement with the typed postcode: person id -> (address level, why)."""
        weights = self.weights["address"]
        self._address = {pid: ("address", level, weights[level], why) for pid, (level, why) in found.items()}

    def _gender_part(self, held: str) -> Part | None:
        typed = self.query.gender
        if typed not in {"1", "2"} or held not in {"1", "2"}:
            return None
        level = "same" if typed == held else "different"
        return ("gender", level, self.weights["gender"][level], f"gender {level}")

    def name_best(self, given: str, middle: str, family: str) -> tuple[float, list[Part], bool]:
        """One recorded name against the typed one, either way round: (total, parts, swapped).

        A middle name only matters when a typed name appears in it, so the cache
        ignores middle names otherwise: most candidates share a few names.
        """
        typed = self.typed
        if middle and not (
            (typed.given and typed.given in middle) or (typed.family and typed.family in middle)
        ):
            middle = ""
        key = (given, middle, family)
        found = self._names.get(key)
        if found is not None:
            return found
        name = NameKeys(given, middle, family)
        best: tuple[float, list[Part], bool] | None = None
        for swapped in (False, True):
            first, last = (typed.family, typed.given) if swapped else (typed.given, typed.family)
            parts: list[Part] = []
            if first and given:
                parts.append(self._given_part(first, name))
            if last and family:
                parts.append(self._family_part(last, family))
            total = sum(p[2] for p in parts)
            if swapped:
                total -= self.swap
            if best is None or total > best[0]:
                best = (total, parts, swapped)
        assert best is not None
        if best[2]:
            best = (
                best[0],
                [*best[1], ("order", "swapped", -self.swap, "given and family names typed swapped")],
                True,
            )
        self._names[key] = best
        return best

    def _given_part(self, typed: str, name: NameKeys) -> Part:
        key = (typed, name.given, name.middle)
        part = self._given.get(key)
        if part is None:
            level, why = given_level(typed, name)
            part = self._given[key] = ("given", level, self.weights["given"][level], why)
        return part

    def _family_part(self, typed: str, family: str) -> Part:
        key = (typed, family)
        part = self._family.get(key)
        if part is None:
            level, why = family_level(typed, family)
            part = self._family[key] = ("family", level, self.weights["family"][level], why)
        return part

    def _birth_part(self, born: BirthDate) -> Part | None:
        key = (born.year, born.month, born.day, born.earliest, born.latest)
        if key in self._birth:
            return self._birth[key]
        found = birth_level(self.born, born)
        part = None if found is None else ("birth", found[0], self.weights["birth"][found[0]], found[1])
        self._birth[key] = part
        return part

    def _birth_weight_of_row(self, row: Sequence[Any]) -> float | None:
        if not self.born.known:
            return None
        key = (row[5], row[6], row[7], row[8], row[9])
        if key in self._birth_weights:
            return self._birth_weights[key]
        level = birth_level_only(self.born, BirthDate(*key))
        weight = None if level is None else self.weights["birth"][level]
        self._birth_weights[key] = weight
        return weight

    def parts(self, candidate: Candidate) -> tuple[float, list[Part], NameKeys, bool]:
        """The candidate's total, each field's part, the name that matched best and whether swapped."""
        best: tuple[float, list[Part], bool] | None = None
        best_name = candidate.names[0]
        for name in candidate.names:
            found = self.name_best(name.given, name.middle, name.family)
            if best is None or found[0] > best[0]:
                best, best_name = found, name
        assert best is not None  # a candidate has at least one name
        parts = list(best[1])
        birth = self._birth_part(candidate.born)
        if birth is not None:
            parts.append(birth)
        self._identifier_parts(candidate.identifiers, parts)
        gender = self._gender.get(candidate.gender)
        if gender is not None:
            parts.append(gender)
        address = self._address.get(candidate.person_id)
        if address is not None:
            parts.append(address)
        return sum(p[2] for p in parts), parts, best_name, best[2]

    def _identifier_parts(self, identifiers: Sequence[tuple[str, str]], parts: list[Part]) -> None:
        if not self.query.identifiers:
            return
        held = dict(identifiers)
        for wanted in self.query.identifiers:
            kind = wanted.type.value
            if kind in held:
                level = "same" if held[kind] == wanted.value else "different"
                why = f"{kind} {wanted.value} {'agrees' if level == 'same' else 'differs from ' + held[kind]}"
                parts.append(("identifier", level, self.weights["identifier"][level], why))

    def total(self, candidate: Candidate) -> float:
        """The candidate's score in bits, rounded as ``PersonMatch.score`` holds it."""
        return round(self.parts(candidate)[0], 3)

    def total_of_rows(
        self, rows: Sequence[Sequence[Any]], identifiers: Sequence[tuple[str, str]] = ()
    ) -> float:
        """``total`` straight from one record's key rows (``people.SCORED`` columns), no objects built.

        The same weights are added in the same order as ``parts`` adds them, so the sum is the same.
        """
        best: tuple[float, list[Part], bool] | None = None
        for row in rows:
            found = self.name_best(row[2], row[3], row[4])
            if best is None or found[0] > best[0]:
                best = found
        assert best is not None
        total = best[0]
        birth = self._birth_weight_of_row(rows[0])
        if birth is not None:
            total += birth
        if self.query.identifiers:
            extra: list[Part] = []
            self._identifier_parts(identifiers, extra)
            for part in extra:
                total += part[2]
        gender = self._gender.get(rows[0][10])
        if gender is not None:
            total += gender[2]
        address = self._address.get(rows[0][0])
        if address is not None:
            total += address[2]
        return round(total, 3)

    def match(
        self, candidate: Candidate, band: Band = Band.BELOW, person_id: str | None = None
    ) -> PersonMatch:
        """The candidate as a result, with each field's part (``person_id`` overrides, for merges)."""
        total, parts, name, swapped = self.parts(candidate)
        if band is Band.WEAK:
            parts.append(("band", "weak", 0.0, WEAK_WHY))
        return PersonMatch(
            person_id=person_id or candidate.person_id,
            score=round(total, 3),
            band=band,
            matched_name=" ".join(p for p in (name.given, name.family) if p),
            swapped=swapped,
            fields=tuple(FieldMatch(*p) for p in parts),
        )


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
    caller has them already. To score many candidates for one query, use one
    ``QueryScorer``.
    """
    return QueryScorer(query, model, today=today, typed=typed, born=born).match(candidate)


def ordered(
    query: PersonQuery, scored: Iterable[tuple[float, str, T]], thresholds: Thresholds
) -> list[tuple[float, str, T]]:
    """(score, record id, anything) best first, ties by id, cut to those shown unless ``include_below``.

    Shown: band at least possible, and no more than ``gap`` bits below the best;
    failing any, the best alone if it is weak and clear of the next by ``clear``
    bits (``Thresholds``). ``scored`` must hold every record that can reach
    ``thresholds.read_floor(query)``.
    """
    ranked = sorted(scored, key=lambda s: (-s[0], s[1]))
    if not ranked or query.include_below:
        return ranked
    floor = max(thresholds.possible, ranked[0][0] - thresholds.gap)
    shown = [s for s in ranked if s[0] >= floor]
    if shown or not weak_applies(query):
        return shown
    best = ranked[0][0]
    runner_up = ranked[1][0] if len(ranked) > 1 else -math.inf
    if best >= thresholds.weak and best - runner_up >= thresholds.clear:
        return ranked[:1]
    return []


def rank(
    query: PersonQuery, found: Iterable[Candidate], model: MatchModel, thresholds: Thresholds
) -> list[PersonMatch]:
    """Score, band, and keep what is shown: best first, ``limit`` at most."""
    scorer = QueryScorer(query, model)
    scored = ((scorer.total(c), c.person_id, c) for c in found)
    shown = ordered(query, scored, thresholds)[: query.limit]
    return [scorer.match(c, thresholds.band(total)) for total, _, c in shown]
