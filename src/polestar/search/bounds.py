"""How high a candidate could still score, to fetch only records that can be shown.

A result is shown only if it scores at least the "possible" cut-off. Before any
record is read, the most a record could add for each field is known from the
model: the best level of a name, or of the date of birth the query's form
allows (a year typed can at best agree to the year). A blocking rule that lets
through many names (every Smith whose given name starts with J) first reads the
distinct names it would bring back — from its index, without touching a record
— and then fetches only the records whose name can still reach the cut-off;
the rest only if their date of birth can make up the difference.

The cut-off is ``Thresholds.read_floor``: "possible", or lower when the query
may show a weak result (the clear best below "possible"), since a record a few
bits under a weak one is what stops it being clear. This never changes what is
shown: a record left behind could not have scored the cut-off. It applies only
when results below "possible" are not asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import and_, or_, true

from polestar.search.keys import NameKeys
from polestar.search.ranking import QueryScorer, Thresholds
from polestar.search.scoring import family_level, given_level
from polestar.search.tables import person_keys

_BELOW_MIDDLE = frozenset({"fuzzy", "initial", "different"})
"""Given-name levels a middle name could beat (the typed name may be one of the record's middle names)."""


class ScoreBounds:
    """Upper bounds on a candidate's score for one query, against the cut-off ``floor``.

    ``thresholds``: the bands, whose ``read_floor`` for the query becomes
    ``floor``; a number is the "possible" cut-off, with the default weak band
    below it.
    """

    def __init__(self, scorer: QueryScorer, thresholds: Thresholds | float) -> None:
        if not isinstance(thresholds, Thresholds):
            thresholds = Thresholds(possible=thresholds)
        self.scorer = scorer
        self.floor = thresholds.read_floor(scorer.query)
        w = scorer.weights
        self.birth_max = max((w["birth"][lvl] for lvl in self._birth_levels()), default=0.0)
        gender = w["gender"]["same"] if scorer.query.gender in {"1", "2"} else 0.0
        self.gender_max = max(gender, 0.0)
        self.usable = not scorer.query.identifiers  # an identifier can outweigh anything: no pruning

    def _birth_levels(self) -> list[str]:
        born = self.scorer.born
        if not born.known:
            return []
        if born.year is None:  # an age range
            return ["in_range", "different"]
        best = "exact" if born.day is not None else "month" if born.month is not None else "year"
        levels = [best, "year", "in_range", "different"]
        return [*levels, "near"] if born.day is not None else levels

    def hopeless(self) -> bool:
        """True if no record at all could reach the cut-off (a family name alone, no date of birth)."""
        typed = self.scorer.typed
        g, f = self._given_cap(typed.given), self._family_cap(typed.family)
        straight = g + f
        swapped = self._given_cap(typed.family) + self._family_cap(typed.given) - self.scorer.swap
        return self.usable and max(straight, swapped) + self.birth_max + self.gender_max < self.floor

    def _given_weight(self, typed: str, name: str, middle: bool) -> float:
        if not typed:
            return 0.0
        level, _ = given_level(typed, NameKeys(name, "", ""))
        weight = self.scorer.weights["given"][level]
        if middle and level in _BELOW_MIDDLE:
            return max(weight, self.scorer.weights["given"]["middle"])
        return weight

    def _family_weight(self, typed: str, name: str) -> float:
        return self.scorer.weights["family"][family_level(typed, name)[0]] if typed else 0.0

    def given_value(self, name: str, middle: bool = True) -> float:
        """The most a record with this given name can score on its names (either reading).

        ``middle``: allow for the typed name being one of the record's middle names.
        """
        typed = self.scorer.typed
        straight = self._given_weight(typed.given, name, middle) + self._family_cap(typed.family)
        swapped = (
            self._given_weight(typed.family, name, middle) + self._family_cap(typed.given) - self.scorer.swap
        )
        return max(straight, swapped)

    def family_value(self, name: str, middle: bool = True) -> float:
        """The most a record with this family name can score on its names (either reading)."""
        del middle  # the given name's best level already allows for a middle name
        typed = self.scorer.typed
        straight = self._family_weight(typed.family, name) + self._given_cap(typed.given)
        swapped = self._family_weight(typed.given, name) + self._given_cap(typed.family) - self.scorer.swap
        return max(straight, swapped)

    def _family_cap(self, typed: str) -> float:
        return max(self.scorer.weights["family"].values()) if typed else 0.0

    def _given_cap(self, typed: str) -> float:
        return max(self.scorer.weights["given"].values()) if typed else 0.0

    def narrowed(
        self, column: Any, values: Iterable[str], value_max: Callable[[str, bool], float]
    ) -> Any | None:
        """A condition keeping the records whose ``column`` value can reach the cut-off; None for none.

        A value that reaches it on its names alone is kept outright; one that needs
        the date of birth too is kept only where the birth year (or year and month)
        agrees, when nothing less makes up the difference. A value that could
        reach it only if the typed name were one of the record's middle names is
        kept only where it is.
        """
        groups: dict[tuple[str | None, str | None], list[str]] = {}
        for value in values:
            plain = self._needs(value_max(value, False))  # noqa: FBT003 - value_max(name, middle)
            middle = self._needs(value_max(value, True))  # noqa: FBT003 - value_max(name, middle)
            groups.setdefault((plain, None if middle == plain else middle), []).append(value)
        k = person_keys.c
        typed = [t for t in (self.scorer.typed.given, self.scorer.typed.family) if t]
        in_middle = or_(*(k.middle.contains(t, autoescape=True) for t in typed))
        parts = []
        for (plain, middle), kept in groups.items():
            condition = self._birth_condition(plain)
            needed = self._birth_condition(middle)
            if needed is not None:
                with_middle = and_(needed, in_middle)
                condition = with_middle if condition is None else or_(condition, with_middle)
            if condition is not None:
                parts.append(and_(column.in_(kept), condition))
        return or_(*parts) if parts else None

    def _needs(self, names: float) -> str | None:
        """What a record scoring ``names`` on names needs of its date of birth to be shown.

        ``keep`` (nothing more, or nothing a year can decide), ``year``, ``month``, or None (hopeless).
        """
        best = names + self.gender_max
        if best >= self.floor:
            return "keep"
        w = self.scorer.weights["birth"]
        enough = {lvl for lvl in self._birth_levels() if best + w[lvl] >= self.floor}
        if not enough:
            return None
        if self.scorer.born.year is None:
            return "keep"
        if enough <= {"exact", "month"}:
            return "month"
        return "year" if enough <= {"exact", "month", "year"} else "keep"

    def _birth_condition(self, need: str | None) -> Any | None:
        k, born = person_keys.c, self.scorer.born
        if need == "keep":
            return true()
        if need == "year":
            return k.birth_year == born.year
        if need == "month":
            return and_(k.birth_year == born.year, k.birth_month == born.month)
        return None
