"""SQLite answers each vehicle query from the index meant for it (the store's SQLite is not analysed)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from polestar.search.vehicle_keys import metadata, vehicle_keys, vehicle_row
from polestar.search.vehicles import VehicleQuery, search_vehicles, vehicle_statement
from polestar.store.engines import sqlite_engine


@pytest.fixture
def engine(tmp_path):
    engine = sqlite_engine(tmp_path / "keys.sqlite3", synchronous="NORMAL")
    metadata.create_all(engine)
    rows = [
        vehicle_row(
            f"v{i}",
            {
                "registration": {"mark": f"{a}{b}{i % 70:02d}XYZ"},
                "make": ("Ford", "Vauxhall")[i % 2],
                "colour": ("blue", "red")[i % 3 % 2],
            },
        )
        for i, (a, b) in enumerate((a, b) for a in "ABCD" for b in "ABCDEFGH" for _ in range(10))
    ]
    with engine.begin() as conn:
        conn.execute(vehicle_keys.insert(), rows)
    yield engine
    engine.dispose()


@pytest.mark.parametrize(
    ("asked", "index"),
    [
        ({"registration": "AB12XYZ"}, "ix_search_vehicle_mark (mark=?)"),
        ({"registration": "AB1*"}, "ix_search_vehicle_mark (mark>? AND mark<?)"),
        ({"registration": "A?12XYZ"}, "ix_search_vehicle_mark_reversed"),
        ({"registration": "*XYZ"}, "ix_search_vehicle_mark_reversed"),
        ({"registration": "?B12XY?"}, "ix_search_vehicle_mark_tail"),
        ({"registration": "AB*", "make": "Ford"}, "ix_search_vehicle_mark (mark>? AND mark<?)"),
        ({"registration": "*XYZ", "make": "Ford", "colour": "blue"}, "ix_search_vehicle_mark_reversed"),
        ({"registration": "AB*", "make": "Ford", "colour": "blue"}, "ix_search_vehicle_make (make_key=?"),
        ({"make": "Ford", "colour": "blue"}, "ix_search_vehicle_make (make_key=? AND colour=?)"),
        ({"colour": "red"}, "ix_search_vehicle_colour (colour=?)"),
    ],
)
def test_each_query_reads_a_range_of_its_own_index(engine, asked, index):
    query = VehicleQuery(**asked)
    statement, _ = vehicle_statement(query, "sqlite")
    with engine.connect() as conn:
        compiled = statement.limit(20).compile(engine, compile_kwargs={"literal_binds": True})
        plan = " | ".join(row[-1] for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert f"SEARCH search_vehicle_keys USING INDEX {index}" in plan
        found = search_vehicles(conn, query)
    assert found, "each query above matches something"
