"""Person search builds its statements once and reads in stages, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from polestar.search import PersonQuery, SearchIndex, people
from polestar.search.blocking import KINDS, rules
from polestar.search.names import canonical, phonetic
from polestar.search.query import Band
from polestar.search.ranking import QueryScorer
from polestar.search.tables import metadata
from polestar.search.testing import put_people
from polestar.store.engines import postgres_engine, sqlite_engine

PEOPLE = [
    ("b1", "Sarah", "Browne", "1997-04-04"),
    ("m1", "Mary", "Jones", "1961-02-03"),
    ("m2", "Mary", "Jones", "1975-05-05"),
    ("p1", "Peter", "Walsh", "1975-05-05"),
    # Sarahs born in 1997 under other family names: only a replaced-family rule reads them.
    *(
        (f"s{i}", "Sarah", family, f"1997-0{1 + i % 9}-1{i % 10}")
        for i, family in enumerate(
            ["Ng", "Okafor", "Kowalski", "Lindqvist", "Papadopoulos", "Haddad", "Quigley", "Yilmaz"]
        )
    ),
]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "keys.sqlite3", synchronous="OFF")
    else:
        url = request.getfixturevalue("postgres_url")
        engine = postgres_engine(url, schema=request.getfixturevalue("postgres_schema"))
    metadata.create_all(engine)
    put_people(engine, PEOPLE)
    yield engine
    engine.dispose()


def test_queries_with_the_same_kinds_of_rule_share_a_statement_and_bind_their_own_names(engine):
    mary = PersonQuery(given="Mary", family="Jones", date_of_birth="1961-02-03")
    peter = PersonQuery(given="Peter", family="Walsh", date_of_birth="1975-05-05")
    assert [r.kind for r in rules(mary)] == [r.kind for r in rules(peter)]
    assert people._statement(rules(mary), None) is people._statement(rules(peter), None)
    with engine.connect() as conn:
        found = {q.given: {c.person_id for c in people.candidates(conn, q)} for q in (mary, peter)}
    assert found["Mary"] >= {"m1", "m2"}
    assert "p1" not in found["Mary"]
    assert found["Peter"] >= {"p1"}
    assert not found["Peter"] & {"m1", "b1"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_of_rule_runs_alone(engine, kind):
    values = {
        "type": "PNC",
        "value": "2004/0123456Z",
        "code": phonetic("jones"),
        "groups": [canonical("mary")],
        "initial": "m" if kind == "family+initial" else "j",  # the given initial there, else the family's
        "year": 1961,
        "month": 2,
        "day": 3,
        "given": "m",
        "family": "j",
        "letters": ["j", "m"],
    }
    with engine.connect() as conn:
        statement = people._statement([people.Rule(kind, values)], None)
        found = {row.person_id for row in conn.execute(statement, {f"r0_{k}": v for k, v in values.items()})}
    assert found <= {"m1", "m2"}
    assert (kind == "identifier") == (not found)  # nobody holds that PNC ID; every other rule finds Mary


def test_a_possible_match_is_shown_without_reading_what_only_a_weak_one_would_need(engine):
    search = SearchIndex(engine)
    query = PersonQuery(given="Sarah", family="Browne", date_of_birth="1997")
    scorer = QueryScorer(query, search.model)
    with engine.connect() as conn:
        staged = {pid for _, pid, _ in search._read(conn, query, scorer)}
        floor = search.thresholds.read_floor(query)
        at_once = {pid for _, pid, _ in search._scored(conn, query, scorer, floor)}
        shown = search.search_blocking(conn, query)
    assert floor < search.thresholds.possible  # a weak result could be shown for these names
    assert [(m.person_id, m.band) for m in shown] == [("b1", Band.POSSIBLE)]
    assert staged == {"b1"}
    assert at_once > {"b1", "s0", "s7"}  # the other Sarahs of 1997, read only to the weak band's floor


def test_without_a_possible_match_the_weak_band_is_read_to_its_floor(engine):
    search = SearchIndex(engine)
    query = PersonQuery(given="Sarah", family="Browne", date_of_birth="1930-07-23")
    with engine.connect() as conn:
        shown = search.search_blocking(conn, query)
    assert [(m.person_id, m.band) for m in shown] == [("b1", Band.WEAK)]
