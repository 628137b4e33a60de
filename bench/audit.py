"""Audit benchmark: append throughput (SQLite and PostgreSQL) beside the bus's rate, and verify of 1,000,000.

Append: consultation entries (one subject, a query and details, all encrypted per
subject) written by concurrent callers through ``AuditLog.append``, each call
waiting for its commit under a signed head, as the hub's components will
call it. Beside it, in the same run: the raw limit (plain inserts of the same
leaf bytes; SQLite: WAL, synchronous=FULL, 2,000 rows per transaction;
PostgreSQL: psycopg ``executemany``, 2,000 rows per transaction), and the bus
benchmark's embedded pipeline at full speed (``bench/bus.py``'s
``run_engine_pipeline``, ``--bus-events`` events), so the audit/bus ratio is
measured under the same load.

Verify: a log of ``--verify-entries`` entries (default 1,000,000) in one SQLite
file, then ``AuditLog.verify()``: every leaf rehashed, every seal checked, the
root recomputed and every signed head checked. The log is written once through
the real append path (``AuditLog.write_batch``, 20,000 entries a transaction)
and kept in ``bench/.cache/`` per leaf format version and size; ``--rebuild``
writes it again.

Targets (issue #7): embedded append >= 10,000 entries/s and >= the bus pipeline's
rate (audit/bus >= 1: the log must not be what limits the hub); verify of
1,000,000 entries <= 10 s. ``cpu_us_per_entry`` (process CPU, every thread) is the
number to compare between runs on this shared machine; wall-clock rates move with
the load.

Run: ``.venv/bin/python bench/audit.py [--entries N] [--callers C] [--bus-events E]
[--verify-entries M] [--rebuild] [--no-append] [--no-postgres] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg

from _report import report
from bus import run_engine_pipeline
from polestar.audit import (
    Actor,
    AuditEntry,
    AuditKeys,
    AuditLog,
    AuditStore,
    Operation,
    PostgresAuditStore,
    SqliteAuditStore,
    SubjectRef,
)
from polestar.audit.leaf import LEAF_VERSION
from polestar.bus.config import SqliteBusConfig
from polestar.bus.factory import open_engine

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def make_entries(n: int) -> list[AuditEntry]:
    return [
        AuditEntry(
            operation=Operation.CONSULTATION,
            actor=Actor(person=f"user:pc{i % 500:04d}", device=f"device:tablet-{i % 80:04d}"),
            service="pnc",
            purpose="roadside check",
            correlation_id=f"flow-{i // 4}",
            subjects=[SubjectRef(type="PNC", value=f"2001/{i % 5000:07d}X")],
            query=f"surname=SMITH forename=JOHN dob=1980-01-{i % 28 + 1:02d}",
            record_ids=[f"person:{i % 5000}"],
            details={"answer": "no trace", "vrm": f"AB{i % 100:02d}CDE"},
        )
        for i in range(n)
    ]


async def append_through_log(
    store: AuditStore, entries: list[AuditEntry], callers: int, *, keyed: bool = False
) -> dict[str, Any]:
    """Each caller appends its share one entry at a time (with an intent key each if ``keyed``)."""
    log = AuditLog(store, AuditKeys.generate(), checkpoint_interval=None, intent_interval=None)
    await log.start()
    indexed = list(enumerate(entries))
    share = [indexed[i::callers] for i in range(callers)]

    async def caller(mine: list[tuple[int, AuditEntry]]) -> None:
        for i, entry in mine:
            await log.append(entry, key=f"bench:{i}" if keyed else None)

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller(mine) for mine in share))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    verified = await log.verify()
    await log.close()
    assert verified.ok, verified
    assert verified.entries_checked == len(entries), verified
    return {
        "entries": len(entries),
        "seconds": seconds,
        "entries_per_s": len(entries) / seconds,
        "cpu_us_per_entry": cpu / len(entries) * 1e6,
    }


async def rounds_of(n: int, run: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """``n`` runs of ``run``: the median run, with the range of rates seen."""
    runs = sorted([await run() for _ in range(n)], key=lambda r: r["entries_per_s"])
    median = dict(runs[len(runs) // 2])
    median["range"] = f"{runs[0]['entries_per_s']:,.0f}-{runs[-1]['entries_per_s']:,.0f}"
    return median


def leaves_of(store: AuditStore, n: int) -> list[tuple[int, bytes]]:
    with store.transaction(write=False) as tx:
        return [(seq, leaf) for rows in tx.leaves(n, 10_000) for seq, leaf, _, _ in rows]


def raw_sqlite(path: Path, leaves: list[tuple[int, bytes]]) -> dict[str, Any]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE raw (seq INTEGER PRIMARY KEY, leaf BLOB NOT NULL)")
    started = time.perf_counter()
    for i in range(0, len(leaves), 2000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO raw VALUES (?, ?)", leaves[i : i + 2000])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    return {"entries": len(leaves), "seconds": seconds, "entries_per_s": len(leaves) / seconds}


def raw_postgres(schema: str, leaves: list[tuple[int, bytes]]) -> dict[str, Any]:
    with psycopg.connect(POSTGRES_URL) as conn:
        conn.execute(f'CREATE TABLE "{schema}".raw (seq BIGINT PRIMARY KEY, leaf BYTEA NOT NULL)')
        conn.commit()
        started = time.perf_counter()
        for i in range(0, len(leaves), 2000):
            with conn.cursor() as cur:
                cur.executemany(f'INSERT INTO "{schema}".raw VALUES (%s, %s)', leaves[i : i + 2000])
            conn.commit()
        seconds = time.perf_counter() - started
    return {"entries": len(leaves), "seconds": seconds, "entries_per_s": len(leaves) / seconds}


CACHE = Path(__file__).parent / ".cache"
"""Where built verify logs are kept between runs (git-ignored)."""


async def _build_log(path: Path, keys_dir: Path, n: int) -> float:
    """Write ``n`` entries through ``AuditLog.write_batch`` (the real append path); seconds taken.

    ``synchronous=NORMAL`` and 20,000 entries per transaction: the build is a fixture, not the
    measurement, and a crash while building leaves only the ``.partial`` file, never a cache entry.
    """

    keys = AuditKeys.load_or_create(keys_dir)
    log = AuditLog(SqliteAuditStore(path, synchronous="NORMAL"), keys, checkpoint_interval=None)
    await log.start()
    template = make_entries(20_000)
    started = time.perf_counter()
    written = 0
    while written < n:
        batch = template[: min(len(template), n - written)]
        await asyncio.to_thread(log.write_batch, batch)
        before, written = written, written + len(batch)
        if written // 100_000 > before // 100_000:
            await log.checkpoint()  # a checkpoint head every 100,000 for verify to check on the way
    seconds = time.perf_counter() - started
    await log.close()
    return seconds


async def cached_log(n: int, *, rebuild: bool = False) -> tuple[Path, Path, float | None]:
    """The SQLite file and keys folder of a built ``n``-entry log, built once per leaf format version.

    Returns the build time when it was built in this run, else None.
    """
    folder = CACHE / f"audit-verify-v{LEAF_VERSION}-{n}"
    done = folder / "audit.sqlite3"
    if done.exists() and not rebuild:
        return done, folder, None
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    partial = folder / "audit.sqlite3.partial"
    seconds = await _build_log(partial, folder, n)
    _keep(partial, done)
    return done, folder, seconds


def _keep(partial: Path, done: Path) -> None:
    for suffix in ("-wal", "-shm"):  # a cleanly closed WAL database has none left
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.rename(done)


async def verify_log_file(path: Path, keys_dir: Path, n: int) -> dict[str, Any]:
    """``AuditLog.verify()`` over a built log, opened without ``start()`` so nothing is written to it."""
    store = SqliteAuditStore(path)
    log = AuditLog(store, AuditKeys.load(keys_dir), checkpoint_interval=None)
    cpu = time.process_time()
    result = await log.verify()
    cpu = time.process_time() - cpu
    await asyncio.to_thread(store.close)
    assert result.ok, result
    assert result.entries_checked == n, result
    return {
        "entries": n,
        "seconds": result.seconds,
        "entries_per_s": n / result.seconds,
        "cpu_us_per_entry": cpu / n * 1e6,
        "heads": result.heads_checked,
    }


async def bus_rate(workdir: Path, events: int) -> dict[str, Any]:
    """The bus benchmark's embedded pipeline (``bench/bus.py``, full speed) on this machine, now."""
    engine = open_engine(SqliteBusConfig(path=workdir / f"bus-{uuid.uuid4().hex[:6]}.sqlite3"), workdir)
    await engine.start()
    try:
        cpu = time.process_time()
        result = await run_engine_pipeline(engine, events, None)
        cpu = time.process_time() - cpu
    finally:
        await engine.close()
    rate = result["events_per_s"]
    return {
        "entries": events,
        "seconds": events / rate,
        "entries_per_s": rate,
        "cpu_us_per_entry": cpu / events * 1e6,
    }


async def append_rows(
    args: argparse.Namespace, entries: list[AuditEntry], workdir: Path, rows: list[dict[str, Any]]
) -> None:
    """The append rows: the bus's rate and the raw inserts as references, then the log on each engine."""
    files = iter(range(1_000))

    def sqlite_store() -> AuditStore:
        return SqliteAuditStore(workdir / f"audit-{next(files)}.sqlite3")

    bus = await rounds_of(args.rounds, lambda: bus_rate(workdir, args.bus_events))
    rows.append(
        {
            "engine": "sqlite",
            "mode": f"bench/bus.py embedded pipeline, events (median of {args.rounds})",
            **bus,
        }
    )
    emb = await rounds_of(args.rounds, lambda: append_through_log(sqlite_store(), entries, args.callers))
    keyed = await append_through_log(sqlite_store(), entries, args.callers, keyed=True)
    raw = raw_sqlite(
        workdir / "raw.sqlite3", leaves_of(SqliteAuditStore(workdir / "audit-0.sqlite3"), args.entries)
    )
    rows.append({"engine": "sqlite", "mode": "raw inserts of the same leaves", **raw})
    rows.append(
        {
            "engine": "sqlite",
            "mode": f"AuditLog.append, {args.callers} callers (median of {args.rounds})",
            **emb,
            "target": ">= 10,000/s",
            "met": emb["entries_per_s"] >= 10_000,
            "vs_raw": emb["entries_per_s"] / raw["entries_per_s"],
        }
    )
    ratio = emb["entries_per_s"] / bus["entries_per_s"]
    rows.append(
        {
            "engine": "sqlite",
            "mode": "AuditLog.append / bus pipeline (medians, this run)",
            "vs_bus": ratio,
            "target": ">= 1 (not what limits the hub)",
            "met": ratio >= 1,
        }
    )
    rows.append(
        {
            "engine": "sqlite",
            "mode": "AuditLog.append with an intent key each",
            **keyed,
            "vs_raw": keyed["entries_per_s"] / raw["entries_per_s"],
        }
    )
    if not args.no_postgres:
        schema = "bench_" + uuid.uuid4().hex[:8]
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            pg_store = PostgresAuditStore(POSTGRES_URL, schema=schema)
            pg = await append_through_log(pg_store, entries, args.callers)  # the schema once: one round
            pg_leaves = leaves_of(PostgresAuditStore(POSTGRES_URL, schema=schema), args.entries)
            raw_pg = raw_postgres(schema, pg_leaves)
            rows.append({"engine": "postgresql", "mode": "raw executemany of the same leaves", **raw_pg})
            rows.append(
                {
                    "engine": "postgresql",
                    "mode": f"AuditLog.append, {args.callers} callers",
                    **pg,
                    "vs_raw": pg["entries_per_s"] / raw_pg["entries_per_s"],
                }
            )
        finally:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--callers", type=int, default=256, help="Concurrent callers of append().")
    parser.add_argument("--verify-entries", type=int, default=1_000_000)
    parser.add_argument(
        "--rebuild", action="store_true", help="Build the verify log again, not from the cache."
    )
    parser.add_argument("--bus-events", type=int, default=20_000, help="Events of the bus pipeline run.")
    parser.add_argument("--no-append", action="store_true", help="Verify only.")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="Runs per measurement (median and range).")
    args = parser.parse_args()
    entries = make_entries(args.entries)
    rows: list[dict[str, Any]] = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if not args.no_append:
            await append_rows(args, entries, workdir, rows)
        if args.verify_entries:
            path, keys_dir, build_s = await cached_log(args.verify_entries, rebuild=args.rebuild)
            ver = await rounds_of(args.rounds, lambda: verify_log_file(path, keys_dir, args.verify_entries))
            built = "from the cache" if build_s is None else f"built in {build_s:.0f}s"
            big = ver["entries"] >= 1_000_000
            rows.append(
                {
                    "engine": "sqlite",
                    "mode": f"verify ({ver['heads']} signed heads; log {built}; median of {args.rounds})",
                    **{
                        k: ver[k]
                        for k in ("entries", "seconds", "entries_per_s", "cpu_us_per_entry", "range")
                    },
                    "target": "<= 10 s" if big else "(<1M: no target)",
                    "met": ver["seconds"] <= 10 if big else "",
                }
            )
    report(
        "audit",
        "Audit log: append throughput and full verification",
        [
            "engine",
            "mode",
            "entries",
            "seconds",
            "entries_per_s",
            "range",
            "cpu_us_per_entry",
            "vs_raw",
            "vs_bus",
            "target",
            "met",
        ],
        rows,
        notes="Append waits for each entry's commit under a freshly signed tree head (group commit). "
        "The raw references ran in this same run on the same machine; cpu_us_per_entry is the whole "
        f"process's CPU time (every thread) per entry. 1-minute load average at the start: {load:.1f} "
        f"on {os.cpu_count()} CPUs.",
    )


if __name__ == "__main__":
    asyncio.run(main())
