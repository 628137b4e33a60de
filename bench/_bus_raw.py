"""The raw references of ``bench/bus.py``: the same work written directly on SQLite and nats-py.

* ``raw_sqlite_inserts``: plain group-commit inserts of the same 1 KiB rows (WAL,
  synchronous=FULL, 1,000 rows per transaction) - what the disk and SQLite allow at all.
* ``raw_sqlite_pipeline``: publish -> route -> two sinks by hand on plain SQLite, cursors
  only - the least a durable version of the pipeline must do.
* ``raw_nats_pipeline``: the same pipeline on plain nats-py JetStream.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

from _bus_events import KINDS, NATS_URL, make_event, routed
from _report import percentile
from polestar.model.envelope import Envelope


def raw_sqlite_inserts(path: Path, events: int) -> dict[str, Any]:
    """Plain group-commit inserts of the same payloads: the most SQLite can do here."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE m (seq INTEGER PRIMARY KEY, subject TEXT, key TEXT, body BLOB)")
    payloads = [(f"in.{KINDS[i % 2]}", f"K{i % 64}", make_event(i).to_json()) for i in range(events)]
    start = time.perf_counter()
    for base in range(0, events, 1000):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO m (subject, key, body) VALUES (?, ?, ?)", payloads[base : base + 1000])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return {"events": events, "events_per_s": events / elapsed, "p50_ms": "", "p99_ms": ""}


def raw_sqlite_pipeline(path: Path, events: int) -> dict[str, Any]:
    """The same pipeline by hand on plain SQLite: the least a durable version of it must do.

    Same events, same routing code, same 1 KiB rows, WAL and synchronous=FULL, 500
    events per transaction; each stage keeps a cursor in the same transaction as its
    writes (at-least-once). No leases, per-message acks, dedupe or validation at the
    door: what the engine adds on top is what this row leaves out.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE m (seq INTEGER PRIMARY KEY, subject TEXT, key TEXT, body BLOB)")
    conn.execute("CREATE TABLE cursors (grp TEXT PRIMARY KEY, seq INTEGER NOT NULL)")
    conn.executemany("INSERT INTO cursors VALUES (?, 0)", [("router",), ("a",), ("b",)])
    latencies: list[float] = []

    def take(group: str, pattern: str) -> list[tuple[int, str, bytes]]:
        (cursor,) = conn.execute("SELECT seq FROM cursors WHERE grp = ?", (group,)).fetchone()
        rows = conn.execute(
            "SELECT seq, subject, body FROM m WHERE seq > ? AND subject GLOB ? ORDER BY seq",
            (cursor, pattern),
        ).fetchall()
        if rows:
            conn.execute("UPDATE cursors SET seq = ? WHERE grp = ?", (rows[-1][0], group))
        return rows

    start, cpu_start = time.perf_counter(), time.process_time()
    for base in range(0, events, 500):
        batch = [make_event(i) for i in range(base, min(events, base + 500))]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO m (subject, key, body) VALUES (?, ?, ?)",
            [(f"in.{(e.data or {})['kind']}", e.partitionkey, e.to_json()) for e in batch],
        )
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        outputs = [routed(Envelope.from_json(body), "") for _, _, body in take("router", "in.*")]
        conn.executemany(
            "INSERT INTO m (subject, key, body) VALUES (?, ?, ?)",
            [(subject, env.partitionkey, env.to_json()) for env, subject in outputs],
        )
        conn.execute("COMMIT")
        for sink in ("a", "b"):
            conn.execute("BEGIN")
            rows = take(sink, f"out.{sink}.*")
            now = time.perf_counter_ns()
            for _, _, body in rows:
                latencies.append((now - (Envelope.from_json(body).data or {})["sent_ns"]) / 1e6)
            conn.execute("COMMIT")
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    conn.close()
    return {
        "events": events,
        "events_per_s": events / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "cpu_us": cpu / events * 1e6,
        "loop_us": cpu / events * 1e6,
    }


async def raw_nats_pipeline(events: int, paced_rate: float | None) -> dict[str, Any]:
    """The same pipeline on plain nats-py: the JetStream reference."""
    import nats  # noqa: PLC0415 - optional extra, only needed for this reference

    tag = uuid.uuid4().hex[:8].upper()
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    stream = f"RAWBENCH{tag}"
    await js.add_stream(name=stream, subjects=[f"raw{tag}.>"])
    latencies: list[float] = []
    received = 0
    done = asyncio.Event()
    router = await js.pull_subscribe(f"raw{tag}.in.>", durable="router", stream=stream)
    sinks = [await js.pull_subscribe(f"raw{tag}.out.{s}.>", durable=f"sink{s}", stream=stream) for s in "ab"]

    async def fetch(sub: Any) -> list[Any]:
        try:
            return list(await sub.fetch(512, timeout=0.2))
        except TimeoutError:  # nats-py raises its own subclass, or asyncio's, depending on where
            return []

    async def route() -> None:
        while not done.is_set():
            batch = await fetch(router)
            futures = []
            for m in batch:
                env = Envelope.from_json(m.data)
                sink = "a" if (env.data or {}).get("kind") == "custody" else "b"
                futures.append(
                    await js.publish_async(
                        f"raw{tag}.out.{sink}.x", m.data, headers={"Nats-Msg-Id": env.id + sink}
                    )
                )
            await asyncio.gather(*futures)
            await asyncio.gather(*(m.ack() for m in batch))

    async def sink(sub: Any) -> None:
        nonlocal received
        while not done.is_set():
            batch = await fetch(sub)
            now = time.perf_counter_ns()
            for m in batch:
                env = Envelope.from_json(m.data)
                latencies.append((now - (env.data or {})["sent_ns"]) / 1e6)
            await asyncio.gather(*(m.ack() for m in batch))
            received += len(batch)
            if received >= events:
                done.set()

    workers = [asyncio.create_task(route()), *(asyncio.create_task(sink(s)) for s in sinks)]
    start = time.perf_counter()
    if paced_rate:
        interval = 1.0 / paced_rate
        for i in range(events):
            delay = start + i * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            env = make_event(i)
            await js.publish(f"raw{tag}.in.{KINDS[i % 2]}", env.to_json(), headers={"Nats-Msg-Id": env.id})
    else:
        for base in range(0, events, 500):
            futures = []
            for i in range(base, min(events, base + 500)):
                env = make_event(i)
                futures.append(
                    await js.publish_async(
                        f"raw{tag}.in.{KINDS[i % 2]}", env.to_json(), headers={"Nats-Msg-Id": env.id}
                    )
                )
            await asyncio.gather(*futures)
    await asyncio.wait_for(done.wait(), timeout=max(120.0, events / 200))
    elapsed = time.perf_counter() - start
    done.set()
    for w in workers:
        w.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await w
    await js.delete_stream(stream)
    await nc.close()
    return {
        "events": events,
        "events_per_s": events / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }
