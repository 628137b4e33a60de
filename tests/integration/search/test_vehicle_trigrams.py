"""PostgreSQL answers a vehicle contains pattern from a pg_trgm index made with the keys table."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from polestar.search.vehicle_keys import (
    TRIGRAM_INDEX,
    create_trigram_index,
    metadata,
    vehicle_keys,
    vehicle_row,
)
from polestar.search.vehicles import VehicleQuery, search_vehicles, vehicle_statement
from polestar.store.engines import postgres_engine, sqlite_engine

MARKS = [f"{a}{b}{n:02d} {c}DE" for a in "ABKY" for b in "BXY" for n in (12, 17, 62) for c in "CXZ"]


@pytest.fixture
def pg(postgres_url: str, postgres_schema: str) -> Iterator[Engine]:
    engine = postgres_engine(postgres_url, schema=postgres_schema)
    metadata.create_all(engine)
    rows = [
        vehicle_row(f"v{i:03d}", {"registration": {"mark": m.replace(" ", "")}}) for i, m in enumerate(MARKS)
    ]
    with engine.begin() as conn:
        conn.execute(vehicle_keys.insert(), rows)
        conn.execute(text(f"ANALYZE {vehicle_keys.name}"))
    yield engine
    engine.dispose()


def _indexes(conn, table: str) -> set[str]:
    return set(
        conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = :t"), {"t": table}).scalars()
    )


@pytest.mark.postgres
def test_the_keys_table_comes_with_a_trigram_index_that_answers_contains(pg):
    query = VehicleQuery(registration="*12C*", limit=100)
    with pg.connect() as conn:
        assert TRIGRAM_INDEX in _indexes(conn, vehicle_keys.name)
        found = [m.registration for m in search_vehicles(conn, query)]
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        conn.execute(text("SET LOCAL enable_indexscan = off"))  # only a bitmap scan is left: GIN or nothing
        compiled = vehicle_statement(query, "postgresql")[0].compile(conn)
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).scalars())
    assert found == sorted(m.replace(" ", "") for m in MARKS if "12C" in m.replace(" ", ""))
    assert TRIGRAM_INDEX in plan


@pytest.mark.postgres
def test_making_it_again_is_harmless(pg):
    with pg.begin() as conn:
        assert create_trigram_index(conn)
        assert create_trigram_index(conn)
        assert TRIGRAM_INDEX in _indexes(conn, vehicle_keys.name)


def test_sqlite_has_none_and_needs_none(tmp_path):
    engine = sqlite_engine(tmp_path / "keys.sqlite3", synchronous="OFF")
    metadata.create_all(engine)
    with engine.begin() as conn:
        assert not create_trigram_index(conn)
        names = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
    engine.dispose()
    assert TRIGRAM_INDEX not in names
