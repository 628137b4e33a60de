"""Leaving hopeless records in the database never changes what a search shows."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from polestar.search import BirthDate, NameKeys, PersonKeys, PersonQuery, SearchIndex
from polestar.search.bounds import ScoreBounds
from polestar.search.people import candidate_of, candidate_rows
from polestar.search.ranking import QueryScorer, ordered
from polestar.search.tables import metadata
from polestar.sims.synthetic import World, nicknames, typo
from polestar.store.engines import sqlite_engine

WORLD = World.build(11, people=3000, vehicles=0)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, SearchIndex]]:
    path: Path = tmp_path_factory.mktemp("pruning") / "keys.sqlite3"
    engine = sqlite_engine(path, synchronous="OFF")
    metadata.create_all(engine)
    index = SearchIndex(engine)
    keys = [
        PersonKeys(
            p.id,
            (NameKeys.of(p.forenames, p.family),),
            BirthDate.parse(p.date_of_birth.isoformat()),
            "1" if p.sex == "M" else "2",
        )
        for p in WORLD.people
    ]
    with engine.begin() as conn:
        index.put_blocking(conn, keys)
    yield engine, index
    engine.dispose()


def _queries() -> list[PersonQuery]:
    rng = random.Random(5)
    out: list[PersonQuery] = []
    for p in rng.sample(WORLD.people, 60):
        iso = p.date_of_birth.isoformat()
        out += [
            PersonQuery(given=p.given, family=p.family, date_of_birth=iso),
            PersonQuery(given=p.given, family=p.family, date_of_birth=iso[:7]),
            PersonQuery(given=rng.choice(nicknames(p.given) or (p.given,)), family=p.family),
            PersonQuery(given=typo(rng, p.given), family=typo(rng, p.family), date_of_birth=iso[:4]),
            PersonQuery(given=p.family, family=p.given, age_from=18, age_to=70),
            PersonQuery(family=p.family, date_of_birth=iso),
        ]
    return out


def _unpruned(engine: Engine, index: SearchIndex, query: PersonQuery) -> list[tuple[str, float]]:
    scorer = QueryScorer(query, index.model)
    weighed = ScoreBounds(scorer, index.thresholds.possible)
    weighed.usable = False  # the same weights and rules, but every record the rules let through
    with engine.connect() as conn:
        found = candidate_rows(conn, query, weighed)
    scored = [(scorer.total(candidate_of(rows, held)), rows[0][0], None) for rows, held in found]
    return [(pid, total) for total, pid, _ in ordered(query, scored, index.thresholds)[: query.limit]]


def test_pruned_search_shows_exactly_what_scoring_every_candidate_shows(index):
    engine, search = index
    with engine.connect() as conn:
        for query in _queries():
            shown = [(m.person_id, m.score) for m in search.search_blocking(conn, query)]
            assert shown == _unpruned(engine, search, query), query


def test_a_family_name_alone_cannot_reach_possible_so_nothing_is_read(index):
    engine, search = index
    query = PersonQuery(family=WORLD.people[0].family)
    with engine.connect() as conn:
        assert search.search_blocking(conn, query) == []
        below = search.search_blocking(conn, query.model_copy(update={"include_below": True}))
    assert below, "asked for results below possible, the records are still found"


def test_fast_totals_equal_the_explained_scores(index):
    engine, search = index
    query = PersonQuery(given="Jon", family=WORLD.people[3].family, date_of_birth="1980")
    scorer = QueryScorer(query, search.model)
    with engine.connect() as conn:
        for rows, held in candidate_rows(conn, query):
            match = scorer.match(candidate_of(rows, held))
            assert scorer.total_of_rows(rows, held) == match.score
            assert sum(f.weight for f in match.fields) == pytest.approx(match.score, abs=1e-3)
