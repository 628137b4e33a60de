from datetime import date

import pytest

from polestar.search import BirthDate, MatchModel, NameKeys, PersonQuery
from polestar.search.names import canonical, group_count, normalise, phonetic, same_group
from polestar.search.people import Candidate, Thresholds, rank, score
from polestar.search.scoring import birth_level, family_level, given_level


def test_names_are_normalised_to_plain_letters():
    assert normalise("O'Neill") == "oneill"
    assert normalise("Zoë ") == "zoe"
    assert normalise(None) == ""


def test_nickname_list_ships_a_few_hundred_groups():
    assert group_count() >= 250
    assert canonical("bob") == "robert"
    assert same_group("bob", "robert")
    assert same_group("chris", "christine")
    assert not same_group("robert", "william")


def test_phonetic_code_folds_common_surname_variants():
    assert phonetic("davies") == phonetic("davis")
    assert phonetic("stephens") == phonetic("stevens")


@pytest.mark.parametrize(
    ("typed", "level"),
    [("robert", "exact"), ("bob", "nickname"), ("robret", "close"), ("paul", "middle"), ("r", "initial")],
)
def test_given_name_levels(typed, level):
    assert given_level(typed, NameKeys("robert", "paul", "smith"))[0] == level


def test_family_name_levels():
    assert family_level("smith", "smith")[0] == "exact"
    assert family_level("smiht", "smith")[0] == "close"
    assert family_level("jones", "smith")[0] == "different"


def test_partial_dates_of_birth_agree_to_what_is_known():
    record = BirthDate.parse("1985-06-14")
    assert birth_level(BirthDate.parse("1985-06-14"), record)[0] == "exact"
    assert birth_level(BirthDate.parse("1985-06"), record)[0] == "month"
    assert birth_level(BirthDate.parse("1985"), record)[0] == "year"
    assert birth_level(BirthDate.parse("1985-06-15"), record)[0] == "near"
    assert birth_level(BirthDate.parse("1985-14-06".replace("14-06", "06-14")), record)[0] == "exact"
    assert birth_level(BirthDate.parse("1990"), record)[0] == "different"
    assert birth_level(BirthDate(), record) is None


def test_day_and_month_transposed_is_a_near_miss():
    assert birth_level(BirthDate.parse("1985-04-06"), BirthDate.parse("1985-06-04"))[0] == "near"


def test_age_range_matches_a_date_inside_it():
    query = PersonQuery(family="Smith", age_from=30, age_to=40)
    born = query.born(today=date(2026, 1, 1))
    assert birth_level(born, BirthDate.parse("1990-05-01"))[0] == "in_range"
    assert birth_level(born, BirthDate.parse("1960-05-01"))[0] == "different"


def _candidate(pid, given, family, dob=None, gender="1"):
    return Candidate(pid, (NameKeys.of(given, family),), BirthDate.parse(dob), gender)


def test_swapped_names_still_match_with_a_small_penalty():
    model = MatchModel()
    straight = score(PersonQuery(given="Robert", family="Smith"), _candidate("a", "Robert", "Smith"), model)
    swapped = score(PersonQuery(given="Smith", family="Robert"), _candidate("a", "Robert", "Smith"), model)
    assert swapped.swapped
    assert swapped.score == pytest.approx(straight.score - model.swap_penalty)
    assert any(f.field == "order" for f in swapped.fields)


def test_results_are_banded_explained_and_cut_at_possible():
    people = [
        _candidate("a", "Robert", "Smith", "1985-06-14"),
        _candidate("b", "Robert", "Smith", "1971-02-02"),
        _candidate("c", "Mary", "Jones", "1985-06-14"),
    ]
    shown = rank(
        PersonQuery(given="Bob", family="Smith", date_of_birth="1985-06-14"),
        people,
        MatchModel(),
        Thresholds(),
    )
    assert [m.person_id for m in shown] == ["a"]
    assert shown[0].band == "strong"
    assert {f.field for f in shown[0].fields} == {"given", "family", "birth"}
    everything = rank(
        PersonQuery(given="Bob", family="Smith", date_of_birth="1985-06-14", include_below=True),
        people,
        MatchModel(),
        Thresholds(),
    )
    assert [m.person_id for m in everything] == ["a", "b", "c"]
    assert everything[-1].band == "below"


def test_a_query_needs_a_name_and_a_real_date():
    with pytest.raises(ValueError, match="name"):
        PersonQuery(date_of_birth="1985")
    with pytest.raises(ValueError):
        PersonQuery(family="Smith", date_of_birth="1985-02-30")
