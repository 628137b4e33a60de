"""Person search speed: load rate and p50/p95 latency per query type, embedded and cluster profiles.

A seeded synthetic world of ``--people`` people (default 1,000,000) is indexed
(``SearchIndex.put_blocking``, batches of 10,000), then ``--queries`` queries of
each type run one after another on one connection, timing each end to end
(blocking in SQL, loading candidates, scoring, ranking):

* full DOB, year-month DOB, year DOB, no DOB, age range (names as recorded),
* nickname, typo in the family name, given and family swapped (with a year of birth).

Target (issue #6): p95 <= 50 ms in the embedded profile. The cluster row runs
when PostgreSQL is reachable (``--postgres-url``; a schema of its own, dropped after).

Run: ``.venv/bin/python bench/search_speed.py [--people 1000000] [--queries 200]
[--no-postgres | --no-sqlite]``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import Engine

from _report import percentile, report
from polestar.search import BirthDate, NameKeys, PersonKeys, PersonQuery, SearchIndex
from polestar.search.tables import metadata
from polestar.sims.synthetic import Person, World, nicknames, typo
from polestar.store.engines import postgres_engine, sqlite_engine

QueryMaker = Callable[[random.Random, Person], PersonQuery]

QUERY_TYPES: dict[str, QueryMaker] = {
    "full DOB": lambda r, p: PersonQuery(
        given=p.given, family=p.family, date_of_birth=p.date_of_birth.isoformat()
    ),
    "year-month DOB": lambda r, p: PersonQuery(
        given=p.given, family=p.family, date_of_birth=p.date_of_birth.isoformat()[:7]
    ),
    "year DOB": lambda r, p: PersonQuery(
        given=p.given, family=p.family, date_of_birth=str(p.date_of_birth.year)
    ),
    "no DOB": lambda r, p: PersonQuery(given=p.given, family=p.family),
    "age range": lambda r, p: PersonQuery(given=p.given, family=p.family, age_from=20, age_to=40),
    "nickname": lambda r, p: PersonQuery(
        given=r.choice(nicknames(p.given) or (p.given,)),
        family=p.family,
        date_of_birth=str(p.date_of_birth.year),
    ),
    "typo family": lambda r, p: PersonQuery(
        given=p.given, family=typo(r, p.family), date_of_birth=str(p.date_of_birth.year)
    ),
    "swapped": lambda r, p: PersonQuery(
        given=p.family, family=p.given, date_of_birth=str(p.date_of_birth.year)
    ),
}


def keys_of(person: Person) -> PersonKeys:
    return PersonKeys(
        person.id,
        (NameKeys.of(person.forenames, person.family),),
        BirthDate.parse(person.date_of_birth.isoformat()),
        "1" if person.sex == "M" else "2",
    )


def load(engine: Engine, index: SearchIndex, world: World) -> float:
    metadata.create_all(engine)
    started = time.perf_counter()
    batch = 10_000
    for start in range(0, len(world.people), batch):
        keys = [keys_of(p) for p in world.people[start : start + batch]]
        with engine.begin() as conn:
            index.put_blocking(conn, keys)
    return time.perf_counter() - started


def measure(
    engine: Engine, index: SearchIndex, world: World, queries: int, seed: int
) -> dict[str, list[float]]:
    rng = random.Random(seed)
    sample = rng.sample(world.people, min(queries, len(world.people)))
    timings: dict[str, list[float]] = {}
    with engine.connect() as conn:
        index.search_blocking(conn, QUERY_TYPES["full DOB"](rng, sample[0]))  # warm the caches
        for name, make in QUERY_TYPES.items():
            took = timings.setdefault(name, [])
            for person in sample:
                query = make(rng, person)
                started = time.perf_counter()
                index.search_blocking(conn, query)
                took.append((time.perf_counter() - started) * 1000)
    return timings


def run_profile(profile: str, engine: Engine, world: World, queries: int, seed: int) -> list[dict]:
    index = SearchIndex(engine)
    seconds = load(engine, index, world)
    rows = [
        {
            "profile": profile,
            "query": "(load)",
            "people": len(world.people),
            "per second": len(world.people) / seconds,
        }
    ]
    for name, took in measure(engine, index, world, queries, seed).items():
        p95 = percentile(took, 95)
        rows.append(
            {
                "profile": profile,
                "query": name,
                "people": len(world.people),
                "p50 ms": percentile(took, 50),
                "p95 ms": p95,
                "target": ("met" if p95 <= 50 else "NO") if profile == "embedded" else "",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-postgres", action="store_true", help="Embedded profile only.")
    parser.add_argument("--no-sqlite", action="store_true", help="Cluster profile only.")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    started = time.perf_counter()
    world = World.build(args.seed, people=args.people, vehicles=0)
    print(f"world of {args.people:,} people built in {time.perf_counter() - started:.0f}s")
    rows: list[dict] = []
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            engine = sqlite_engine(Path(tmp) / "store.sqlite3", synchronous="NORMAL")
            rows += run_profile("embedded", engine, world, args.queries, args.seed)
            engine.dispose()
    if not args.no_postgres:
        schema = "bench_" + uuid.uuid4().hex[:8]
        try:
            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
        except psycopg.OperationalError as exc:
            print(f"PostgreSQL unreachable, cluster profile skipped: {exc}")
        else:
            try:
                engine = postgres_engine(args.postgres_url, schema=schema)
                rows += run_profile("cluster", engine, world, args.queries, args.seed)
                engine.dispose()
            finally:
                with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    report(
        "search_speed",
        f"Person search speed on {args.people:,} synthetic people",
        ["profile", "query", "people", "per second", "p50 ms", "p95 ms", "target"],
        rows,
        notes="Target: p95 <= 50 ms per query type in the embedded profile. Load: people indexed per second.",
    )


if __name__ == "__main__":
    main()
