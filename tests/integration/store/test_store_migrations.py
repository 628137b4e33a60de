"""Migrations: an empty SQLite file or PostgreSQL schema gets the tables, and they match the code."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from polestar.store import differences, upgrade
from polestar.store.engines import postgres_engine, sqlite_engine
from polestar.store.migrate import current_revision
from polestar.store.tables import VERSION_TABLE, metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request, tmp_path):
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "empty.sqlite3", synchronous="NORMAL")
    else:
        url = request.getfixturevalue("postgres_url")
        engine = postgres_engine(url, schema=request.getfixturevalue("postgres_schema"), pool_size=1)
    yield engine
    engine.dispose()


def test_migrating_an_empty_database_creates_every_table_and_matches_the_code(empty_engine):
    assert current_revision(empty_engine) is None
    upgrade(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert set(metadata.tables) | {VERSION_TABLE} <= tables
    assert current_revision(empty_engine) == "0001"
    assert differences(empty_engine) == []


def test_a_database_out_of_step_with_the_code_shows_differences(empty_engine):
    upgrade(empty_engine)
    with empty_engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_store_links_to")
    assert [d[0] for d in differences(empty_engine)] == ["add_index"]


def test_migrating_twice_changes_nothing(empty_engine):
    upgrade(empty_engine)
    upgrade(empty_engine)
    assert current_revision(empty_engine) == "0001"


def test_the_store_ignores_other_components_tables_in_the_same_database(empty_engine):
    with empty_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE audit_entries (seq INTEGER PRIMARY KEY)")
    upgrade(empty_engine)
    assert differences(empty_engine) == []


@pytest.mark.postgres
def test_each_schema_gets_its_own_tables(postgres_url, postgres_schema):
    engine = postgres_engine(postgres_url, schema=postgres_schema, pool_size=1)
    try:
        upgrade(engine)
        assert "store_entities" in inspect(engine).get_table_names(schema=postgres_schema)
        assert "store_entities" not in inspect(engine).get_table_names(schema="public")
    finally:
        engine.dispose()
