"""Blocking finds a record whose names were typed the other way round with the family name mistyped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from polestar.search import PersonQuery
from polestar.search.people import candidates
from polestar.search.tables import metadata
from polestar.search.testing import put_people
from polestar.store.engines import sqlite_engine

PEOPLE = [
    ("p1", "Timothy", "McCarthy", "1953-06-07"),
    ("p2", "Thomas", "Morcom", "1980-07-06"),
    ("p3", "Timothy", "Walsh", "1953-06-07"),
    ("p4", "Mary", "Thompson", "1961-02-03"),
]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = sqlite_engine(tmp_path / "keys.sqlite3", synchronous="OFF")
    metadata.create_all(engine)
    put_people(engine, PEOPLE)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("given", "family", "target"),
    [("Mccarrhy", "Timothy", "p1"), ("Morclm", "Thomas", "p2")],
)
def test_swapped_names_with_a_respelt_family_name_and_no_date_of_birth_are_retrieved(
    engine: Engine, given: str, family: str, target: str
) -> None:
    with engine.connect() as conn:
        found = {c.person_id for c in candidates(conn, PersonQuery(given=given, family=family))}
    assert target in found
    assert "p4" not in found  # another family initial: not let through
