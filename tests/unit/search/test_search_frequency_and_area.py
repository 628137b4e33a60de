"""Term-frequency weights, the weight of a wholly different name, and the postcode a person query takes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from polestar.search import BirthDate, MatchModel, NameKeys, PersonQuery
from polestar.search.ranking import Candidate, QueryScorer, Thresholds
from polestar.search.scoring import FAMILY_LEVELS, value_u


def _candidate(given: str, family: str, born: str | None = None) -> Candidate:
    return Candidate("p1", (NameKeys.of(given, family),), BirthDate.parse(born), "0")


def test_a_tiny_index_keeps_nearly_the_model_u():
    u = FAMILY_LEVELS["exact"][1]
    assert u < value_u(1, 5, u) < 2 * u  # one in five would be u = 0.2 on the counts alone


def test_a_large_index_speaks_for_itself():
    u = FAMILY_LEVELS["exact"][1]
    assert value_u(1, 1_000_000, u) < u / 100
    assert value_u(20_000, 1_000_000, u) > u


def test_a_rare_family_name_agreeing_counts_for_more_than_a_common_one():
    query = PersonQuery(given="Ann", family="Quarrington")
    rare = QueryScorer(query, MatchModel())
    rare.use_frequencies(100_000, 2_000, 3)
    common = QueryScorer(query, MatchModel())
    common.use_frequencies(100_000, 2_000, 2_000)
    candidate = _candidate("Ann", "Quarrington")
    assert rare.total(candidate) > common.total(candidate) + 5


def test_frequencies_never_lower_a_name_below_the_model_weight():
    query = PersonQuery(given="John", family="Smith")
    plain = QueryScorer(query, MatchModel())
    counted = QueryScorer(query, MatchModel())
    counted.use_frequencies(10_000, 900, 600)
    assert counted.total(_candidate("John", "Smith")) == plain.total(_candidate("John", "Smith"))


def test_a_wholly_different_given_name_does_not_hide_a_full_date_of_birth_and_family_name():
    query = PersonQuery(given="Edward", family="Selman", date_of_birth="1918-08-22")
    total = QueryScorer(query, MatchModel()).total(_candidate("Stephen", "Selman", "1918-08-22"))
    assert Thresholds().band(total) != "below"


@pytest.mark.parametrize(
    ("typed", "area"),
    [
        ("sw1a1aa", ("postcode", "SW1A 1AA")),
        ("SW1A 1", ("sector", "SW1A 1")),
        ("sw1a", ("outward", "SW1A")),
        (None, None),
    ],
)
def test_a_person_query_reads_a_postcode_sector_or_outward_code(typed, area):
    assert PersonQuery(family="Smith", postcode=typed).area() == area


def test_a_person_query_refuses_what_is_no_postcode():
    with pytest.raises(ValidationError, match="not a UK postcode"):
        PersonQuery(family="Smith", postcode="ZZ")


def test_a_postcode_alone_is_not_a_person_search():
    with pytest.raises(ValidationError, match="needs a given or a family name"):
        PersonQuery(postcode="SW1A 1AA")
