"""Audit benchmark: append throughput (embedded and PostgreSQL) and verify time for 1,000,000 entries.

Append: consultation entries (one subject, a query and details, all encrypted per
subject) written by concurrent callers through ``AuditLog.append``, each call
waiting for its commit under a signed head, as the hub's components will
call it. Beside it, in the same run, the raw limit: plain inserts of the same
leaf bytes (SQLite: WAL, synchronous=FULL, 2,000 rows per transaction;
PostgreSQL: psycopg ``executemany``, 2,000 rows per transaction).

Verify: a log of ``--verify-entries`` entries (default 1,000,000) in one SQLite
file, then ``AuditLog.verify()``: every leaf rehashed, every seal checked, the
root recomputed and every signed head checked.

Targets (issue #7): embedded append >= 10,000 entries/s (the bus benchmark's
rate); verify of 1,000,000 entries <= 10 s.

Run: ``.venv/bin/python bench/audit.py [--entries N] [--callers C] [--verify-entries M] [--no-postgres]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg

from _report import report
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


async def verify_million(path: Path, n: int) -> dict[str, Any]:
    keys = AuditKeys.generate()
    log = AuditLog(SqliteAuditStore(path, synchronous="NORMAL"), keys, checkpoint_interval=None)
    await log.start()
    template = make_entries(5000)
    started = time.perf_counter()
    written = 0
    while written < n:
        batch = template[: min(5000, n - written)]
        await asyncio.to_thread(log.write_batch, batch)
        written += len(batch)
        if written % 100_000 == 0:
            await log.checkpoint()  # ten checkpoint heads for verify to check on the way
    build = time.perf_counter() - started
    await log.close()
    log = AuditLog(SqliteAuditStore(path), keys, checkpoint_interval=None)
    await log.start()
    result = await log.verify()
    await log.close()
    assert result.ok, result
    assert result.entries_checked == n, result
    return {
        "entries": n,
        "seconds": result.seconds,
        "entries_per_s": n / result.seconds,
        "build_s": build,
        "heads": result.heads_checked,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--callers", type=int, default=256, help="Concurrent callers of append().")
    parser.add_argument("--verify-entries", type=int, default=1_000_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="Append runs per engine (median and range).")
    args = parser.parse_args()
    entries = make_entries(args.entries)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        files = iter(range(1_000))

        def sqlite_store() -> AuditStore:
            return SqliteAuditStore(workdir / f"audit-{next(files)}.sqlite3")

        load = os.getloadavg()[0]
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
        if args.verify_entries:
            ver = await verify_million(workdir / "million.sqlite3", args.verify_entries)
            rows.append(
                {
                    "engine": "sqlite",
                    "mode": f"verify ({ver['heads']} signed heads; built in {ver['build_s']:.0f}s)",
                    "entries": ver["entries"],
                    "seconds": ver["seconds"],
                    "entries_per_s": ver["entries_per_s"],
                    "target": "<= 10 s" if ver["entries"] >= 1_000_000 else "(<1M: no target)",
                    "met": ver["seconds"] <= 10 if ver["entries"] >= 1_000_000 else "",
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
