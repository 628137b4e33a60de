"""Vehicle search for ``search_speed.py``: the keys of the world's vehicles, and their query types.

Each query type is timed through ``search_vehicles`` (the indexed plan) and,
beside it in the same run on the same rows, through the naive plan the search
used before the keys existed: a ``LIKE`` (or equality on upper-cased text) that
no index can answer, so every key row is read and tested.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, text

from polestar.search.vehicle_keys import (
    TRIGRAM_INDEX,
    create_trigram_index,
    metadata,
    vehicle_keys,
    vehicle_row,
)
from polestar.search.vehicles import VehicleQuery, search_vehicles
from polestar.sims.synthetic import Vehicle, World

VehicleMaker = Callable[[random.Random, Vehicle], VehicleQuery]


def _mark(vehicle: Vehicle) -> str:
    return vehicle.vrm.replace(" ", "")


VEHICLE_QUERIES: dict[str, VehicleMaker] = {
    "reg full": lambda r, v: VehicleQuery(registration=v.vrm),
    "reg prefix AB12*": lambda r, v: VehicleQuery(registration=_mark(v)[:4] + "*"),
    "reg suffix *CDE": lambda r, v: VehicleQuery(registration="*" + _mark(v)[-3:]),
    "reg middle A?12 CDE": lambda r, v: VehicleQuery(registration=v.vrm[0] + "?" + v.vrm[2:]),
    "reg ends ?B12CD?": lambda r, v: VehicleQuery(registration="?" + _mark(v)[1:-1] + "?"),
    "reg contains *12C*": lambda r, v: VehicleQuery(registration="*" + _mark(v)[2:5] + "*"),
    "make+colour": lambda r, v: VehicleQuery(make=v.make, colour=v.colour.lower()),
    "prefix+make+colour": lambda r, v: VehicleQuery(
        registration=_mark(v)[:2] + "*", make=v.make, colour=v.colour.lower()
    ),
}


def vehicle_document(vehicle: Vehicle) -> dict[str, Any]:
    """A vehicle as the store would hold it (the fields the keys read)."""
    return {
        "registration": {"mark": _mark(vehicle), "display": vehicle.vrm},
        "make": vehicle.make,
        "model": vehicle.model,
        "colour": vehicle.colour.lower(),
    }


def load_vehicles(engine: Engine, world: World, page_cache: str) -> float:
    """Write every vehicle's keys as a bulk load does (indexes built after); seconds taken."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
    indexes = sorted(vehicle_keys.indexes, key=lambda i: str(i.name))
    started = time.perf_counter()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(page_cache)
            conn.commit()
        with conn.begin():
            for ix in indexes:
                ix.drop(conn)
            conn.execute(text(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}"))  # PostgreSQL's, made by create_all
        batch = 10_000
        for start in range(0, len(world.vehicles), batch):
            rows = [
                vehicle_row(f"V{start + i:08d}", vehicle_document(v))
                for i, v in enumerate(world.vehicles[start : start + batch])
            ]
            with conn.begin():
                conn.execute(vehicle_keys.insert(), rows)
        for ix in indexes:
            with conn.begin():
                ix.create(conn)
        with conn.begin():
            create_trigram_index(conn)  # PostgreSQL only
        conn.commit()
        if engine.dialect.name == "postgresql":  # as for the person keys; the hub's SQLite is not analysed
            conn.execute(text(f"ANALYZE {vehicle_keys.name}"))
            conn.commit()
    return time.perf_counter() - started


def naive_vehicles(conn: Connection, query: VehicleQuery) -> list[Any]:
    """The baseline: the same filters as SQL no index can answer (every key row read and tested)."""
    where, params = [], {}
    if query.pattern_text:
        where.append("upper(mark) LIKE :mark")
        params["mark"] = query.pattern_text.replace("?", "_").replace("*", "%")
    for name, column in (("make", "make_key"), ("colour", "colour")):
        value = getattr(query, name)
        if value:
            where.append(f"upper({column}) = :{name}")
            params[name] = value.upper()
    sql = (
        f"SELECT vehicle_id, registration, make, model, colour FROM {vehicle_keys.name} "
        f"WHERE {' AND '.join(where)} ORDER BY mark, vehicle_id LIMIT {query.limit}"
    )
    return list(conn.execute(text(sql), params))


def measure_vehicles(
    engine: Engine, world: World, queries: int, baseline_queries: int, seed: int, page_cache: str
) -> dict[str, dict[str, list[float]]]:
    """Per query type: wall-clock ms and CPU ms of each indexed query, and wall-clock ms of the baseline."""
    rng = random.Random(seed)
    sample = rng.sample(world.vehicles, min(queries, len(world.vehicles)))
    timings: dict[str, dict[str, list[float]]] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql(page_cache)
        search_vehicles(conn, VEHICLE_QUERIES["reg full"](rng, sample[0]))  # warm the caches
        for name, make in VEHICLE_QUERIES.items():
            took = timings.setdefault(name, {"ms": [], "cpu": [], "baseline": []})
            for i, vehicle in enumerate(sample):
                query = make(rng, vehicle)
                started, cpu_started = time.perf_counter(), time.process_time()
                found = search_vehicles(conn, query)
                took["ms"].append((time.perf_counter() - started) * 1000)
                took["cpu"].append((time.process_time() - cpu_started) * 1000)
                if name == "reg full" and [m.registration for m in found] != [vehicle.vrm]:
                    raise AssertionError(f"{query} did not find {vehicle.vrm} alone: {found}")
                if i < baseline_queries:
                    started = time.perf_counter()
                    naive_vehicles(conn, query)
                    took["baseline"].append((time.perf_counter() - started) * 1000)
    return timings
