"""The weak band: the clear best below "possible" is shown, marked weak, and only when it stands alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from polestar.search import BirthDate, MatchModel, NameKeys, PersonQuery, SearchIndex
from polestar.search.bounds import ScoreBounds
from polestar.search.people import Candidate, Thresholds, rank
from polestar.search.query import Band
from polestar.search.ranking import QueryScorer, ordered, weak_applies
from polestar.search.tables import metadata
from polestar.search.testing import put_people
from polestar.store.engines import sqlite_engine

BOTH_NAMES = PersonQuery(given="Sarah", family="Browne", date_of_birth="1997")


def _candidate(pid: str, given: str, family: str, born: str) -> Candidate:
    return Candidate(pid, (NameKeys.of(given, family),), BirthDate.parse(born), "0")


def test_bands_run_strong_possible_weak_below():
    t = Thresholds()
    assert [t.band(v) for v in (22, 10, 7, 6.9)] == [Band.STRONG, Band.POSSIBLE, Band.WEAK, Band.BELOW]


def test_the_clear_best_below_possible_is_shown_alone():
    t = Thresholds()
    assert ordered(BOTH_NAMES, [(8.0, "a", None), (4.9, "b", None)], t) == [(8.0, "a", None)]
    assert ordered(BOTH_NAMES, [(8.0, "a", None)], t) == [(8.0, "a", None)]


@pytest.mark.parametrize(
    ("scored", "why"),
    [
        ([(8.0, "a", None), (5.1, "b", None)], "the next is within 3 bits"),
        ([(8.0, "a", None), (8.0, "b", None)], "two records tie"),
        ([(6.9, "a", None)], "below the weak band"),
        ([(12.0, "a", None), (8.0, "b", None)], "a possible result is shown: the weak one is not added"),
    ],
)
def test_a_weak_result_is_not_shown_unless_clear(scored, why):
    shown = [pid for _, pid, _ in ordered(BOTH_NAMES, scored, Thresholds())]
    assert shown == (["a"] if scored[0][0] >= 10 else []), why


def test_one_name_alone_never_shows_a_weak_result():
    alone = PersonQuery(family="Kilby")
    assert not weak_applies(alone)
    assert ordered(alone, [(8.2, "a", None)], Thresholds()) == []
    assert weak_applies(PersonQuery(family="Kilby", date_of_birth="1994"))
    assert weak_applies(PersonQuery(given="Josephine", family="Kilby"))


def test_below_possible_is_still_returned_whole_when_asked_for():
    asked = BOTH_NAMES.model_copy(update={"include_below": True})
    assert [pid for _, pid, _ in ordered(asked, [(8.0, "a", None), (7.5, "b", None)], Thresholds())] == [
        "a",
        "b",
    ]


def test_a_weak_result_says_why_it_is_shown_and_its_fields_still_add_up():
    people = [
        _candidate("a", "Sarah", "Browne", "1930-07-23"),
        _candidate("b", "Mary", "Jones", "1961-01-01"),
    ]
    shown = rank(BOTH_NAMES, people, MatchModel(), Thresholds())
    assert [m.person_id for m in shown] == ["a"]
    assert shown[0].band == "weak"
    band = [f for f in shown[0].fields if f.field == "band"]
    assert [(f.level, f.weight) for f in band] == [("weak", 0.0)]
    assert "clear best" in band[0].detail
    assert sum(f.weight for f in shown[0].fields) == pytest.approx(shown[0].score, abs=1e-3)
    assert {f.level for f in shown[0].fields if f.field == "birth"} == {"different"}


def test_records_that_could_stand_in_a_weak_results_way_are_read():
    t = Thresholds()
    assert t.read_floor(BOTH_NAMES) == t.weak - t.clear
    assert t.read_floor(PersonQuery(family="Kilby")) == t.possible
    assert Thresholds(weak=10.0).read_floor(BOTH_NAMES) == 10.0  # no weak band at all
    scorer = QueryScorer(BOTH_NAMES, MatchModel())
    assert ScoreBounds(scorer, t).floor == t.weak - t.clear
    assert ScoreBounds(scorer, 10.0).floor == t.weak - t.clear  # a number is "possible", default bands
    assert ScoreBounds(QueryScorer(PersonQuery(family="Kilby"), MatchModel()), t).hopeless()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[Engine, SearchIndex]]:
    engine = sqlite_engine(tmp_path / "keys.sqlite3", synchronous="OFF")
    metadata.create_all(engine)
    yield engine, SearchIndex(engine)
    engine.dispose()


OTHERS = [("m1", "Mary", "Jones", "1961-02-03"), ("m2", "Peter", "Walsh", "1975-05-05")]


def test_both_names_with_a_mis_stated_date_of_birth_are_found_as_weak(index):
    engine, search = index
    put_people(engine, [("s1", "Sarah", "Browne", "1930-07-23"), *OTHERS])
    with engine.connect() as conn:
        found = search.search_blocking(conn, BOTH_NAMES)
    assert [(m.person_id, m.band) for m in found] == [("s1", Band.WEAK)]


def test_two_records_sharing_the_names_show_nothing(index):
    engine, search = index
    put_people(engine, [("s1", "Sarah", "Browne", "1930-07-23"), ("s2", "Sarah", "Browne", "1950-01-02")])
    with engine.connect() as conn:
        assert search.search_blocking(conn, BOTH_NAMES) == []


def test_a_runner_up_that_could_never_be_possible_is_still_read_and_stops_the_weak_one(index):
    # Sarah Jones born 1997 scores a given name, a different family name and the year: below
    # "possible" even at best, so pruning at "possible" would leave her unread, and Sarah
    # Browne would look clear. She is within 3 bits of Sarah Browne, so nothing is shown.
    engine, search = index
    put_people(engine, [("s1", "Sarah", "Browne", "1930-07-23"), ("j1", "Sarah", "Jones", "1997-04-04")])
    with engine.connect() as conn:
        assert search.search_blocking(conn, BOTH_NAMES) == []
        everything = search.search_blocking(conn, BOTH_NAMES.model_copy(update={"include_below": True}))
    scores = {m.person_id: m.score for m in everything}
    assert scores["j1"] < Thresholds().possible
    assert scores["s1"] - scores["j1"] < Thresholds().clear
