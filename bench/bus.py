"""Bus benchmark: 1 KiB CloudEvents through publish -> route by content -> two durable sinks.

For each engine (embedded SQLite, NATS JetStream) the same pipeline runs twice:
at full speed, and paced at 500 events/s for the latency a quiet hub shows.
Beside each engine, the raw limit measured in the same run:

* SQLite: plain group-commit inserts of the same 1 KiB rows (WAL, synchronous=FULL,
  1,000 rows per transaction) - what the disk and SQLite allow at all.
* JetStream: the same publish -> route -> two sinks pipeline written directly on
  nats-py (async publishes, batched pull consumers, explicit acks).

Targets (issue #3), as ratios in the same run: embedded >= 10,000 events/s end to
end and >= 2/3 of the raw SQLite inserts; JetStream >= 3/4 of raw nats-py.

For information, two more SQLite rows put the engine beside like-for-like work:
the engine's publish alone on the same rows as the raw inserts, and the whole
pipeline written by hand on plain SQLite (``raw_sqlite_pipeline``), as the raw
nats-py row does for JetStream. They do not replace the required ratio.

Run: ``make bench`` or ``.venv/bin/python bench/bus.py [--events N] [--paced-seconds S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _report import percentile, report
from polestar.bus.config import JetStreamBusConfig, SqliteBusConfig
from polestar.bus.contract import BusEngine, ConsumerSpec
from polestar.bus.factory import open_engine
from polestar.model.envelope import Envelope

NATS_URL = "nats://127.0.0.1:4222"
PAD = "x" * 700  # brings the encoded event to about 1 KiB
KINDS = ("custody", "incident")


def make_event(i: int) -> Envelope:
    kind = KINDS[i % 2]
    return Envelope(
        source="/bench/producer",
        type=f"{kind}.record.created",
        subject=f"{kind.upper()}-{i:08d}",
        partitionkey=f"K{i % 64}",
        data={"kind": kind, "n": i, "sent_ns": time.perf_counter_ns(), "pad": PAD},
    )


# --- the pipeline on a Polestar engine ---------------------------------------------------------


def _routed(env: Envelope, tag: str) -> tuple[Envelope, str]:
    """Content-based routing: custody events to sink A, the rest to sink B, as a caused event."""
    sink = "a" if (env.data or {}).get("kind") == "custody" else "b"
    routed = env.caused(source="/bench/router", type=env.type, subject=env.subject, data=env.data)
    return routed, f"out{tag}.{sink}.{env.type.split('.')[0]}"


async def run_engine_pipeline(engine: BusEngine, events: int, paced_rate: float | None) -> dict[str, Any]:
    """Publish ``events``; a router group forwards each by content to sink A or B; sinks ack."""
    latencies: list[float] = []
    done = asyncio.Event()
    received = 0
    tag = uuid.uuid4().hex[:8]
    router = await engine.subscribe(ConsumerSpec(group=f"router{tag}", subjects=(f"in{tag}.>",), ack_wait=30))
    sinks = [
        await engine.subscribe(
            ConsumerSpec(group=f"sink{s}{tag}", subjects=(f"out{tag}.{s}.>",), ack_wait=30)
        )
        for s in ("a", "b")
    ]

    async def route() -> None:
        while not done.is_set():
            batch = await router.fetch(512, timeout=0.2)
            if not batch:
                continue
            out = [_routed(d.message.envelope, tag) for d in batch]
            await engine.publish_many(out)
            await asyncio.gather(*(d.ack() for d in batch))

    async def sink(consumer: Any) -> None:
        nonlocal received
        while not done.is_set():
            batch = await consumer.fetch(512, timeout=0.2)
            now = time.perf_counter_ns()
            latencies.extend((now - (d.message.envelope.data or {})["sent_ns"]) / 1e6 for d in batch)
            await asyncio.gather(*(d.ack() for d in batch))
            received += len(batch)
            if received >= events:
                done.set()

    workers = [asyncio.create_task(route()), *(asyncio.create_task(sink(c)) for c in sinks)]
    start = time.perf_counter()
    if paced_rate:
        interval = 1.0 / paced_rate
        for i in range(events):
            target = start + i * interval
            delay = target - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await engine.publish(make_event(i), subject=f"in{tag}.{KINDS[i % 2]}")
    else:
        chunk = 500
        for base in range(0, events, chunk):
            await engine.publish_many(
                [(make_event(i), f"in{tag}.{KINDS[i % 2]}") for i in range(base, min(events, base + chunk))]
            )
    await asyncio.wait_for(done.wait(), timeout=max(120.0, events / 200))
    elapsed = time.perf_counter() - start
    done.set()
    for w in workers:
        w.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await w
    for c in (router, *sinks):
        await c.close()
    return {
        "events": events,
        "events_per_s": events / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


# --- raw references ------------------------------------------------------------------------------


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

    start = time.perf_counter()
    for base in range(0, events, 500):
        batch = [make_event(i) for i in range(base, min(events, base + 500))]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO m (subject, key, body) VALUES (?, ?, ?)",
            [(f"in.{(e.data or {})['kind']}", e.partitionkey, e.to_json()) for e in batch],
        )
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        routed = [_routed(Envelope.from_json(body), "") for _, _, body in take("router", "in.*")]
        conn.executemany(
            "INSERT INTO m (subject, key, body) VALUES (?, ?, ?)",
            [(subject, env.partitionkey, env.to_json()) for env, subject in routed],
        )
        conn.execute("COMMIT")
        for sink in ("a", "b"):
            conn.execute("BEGIN")
            rows = take(sink, f"out.{sink}.*")
            now = time.perf_counter_ns()
            for _, _, body in rows:
                latencies.append((now - (Envelope.from_json(body).data or {})["sent_ns"]) / 1e6)
            conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return {
        "events": events,
        "events_per_s": events / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
    }


async def engine_publish_only(workdir: Path, events: int) -> dict[str, Any]:
    """The engine's publish alone, on the same rows as the raw inserts, 500 per call."""
    engine = open_engine(SqliteBusConfig(path=workdir / "bus-publish.sqlite3"), workdir)
    await engine.start()
    try:
        items = [(make_event(i), f"in.{KINDS[i % 2]}") for i in range(events)]
        start = time.perf_counter()
        for base in range(0, events, 500):
            await engine.publish_many(items[base : base + 500])
        elapsed = time.perf_counter() - start
    finally:
        await engine.close()
    return {"events": events, "events_per_s": events / elapsed, "p50_ms": "", "p99_ms": ""}


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
        except nats.errors.TimeoutError:
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


# --- driver --------------------------------------------------------------------------------------


async def engine_rows(kind: str, events: int, paced_events: int, workdir: Path) -> list[dict[str, Any]]:
    rows = []
    for mode, count, rate in (("full speed", events, None), ("paced 500/s", paced_events, 500.0)):
        if kind == "sqlite":
            config: Any = SqliteBusConfig(path=workdir / f"bus-{mode[:4]}.sqlite3")
        else:
            tag = uuid.uuid4().hex[:6]
            config = JetStreamBusConfig(
                servers=(NATS_URL,), stream_prefix=f"BENCH{tag.upper()}", subject_prefix=f"bench{tag}"
            )
        engine = open_engine(config, workdir)
        await engine.start()
        try:
            result = await run_engine_pipeline(engine, count, rate)
        finally:
            await _drop(engine)
        rows.append({"pipeline": f"polestar {kind}", "mode": mode, **result})
    return rows


async def _drop(engine: BusEngine) -> None:
    destroy = getattr(engine, "destroy", None)  # JetStream: remove the bench streams
    if destroy is not None:
        await destroy()
    await engine.close()


def ratio_row(
    name: str, engine: dict[str, Any], ref: dict[str, Any], target: str, ok: bool
) -> dict[str, Any]:
    return {
        "pipeline": name,
        "mode": "ratio",
        "events_per_s": engine["events_per_s"] / ref["events_per_s"],
        "target": target,
        "met": "yes" if ok else "NO",
    }


def _info_ratio(name: str, engine: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    return {
        "pipeline": name,
        "mode": "ratio",
        "events_per_s": engine["events_per_s"] / ref["events_per_s"],
        "target": "(information)",
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--engines", default="sqlite,jetstream")
    args = parser.parse_args()
    paced = int(args.paced_seconds * 500)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if "sqlite" in args.engines:
            raw = raw_sqlite_inserts(workdir / "raw.sqlite3", args.events)
            rows.append({"pipeline": "raw sqlite inserts", "mode": "full speed", **raw})
            raw_pipe = raw_sqlite_pipeline(workdir / "raw-pipeline.sqlite3", args.events)
            rows.append({"pipeline": "raw sqlite pipeline", "mode": "full speed", **raw_pipe})
            publish_only = await engine_publish_only(workdir, args.events)
            rows.append({"pipeline": "polestar sqlite", "mode": "publish only", **publish_only})
            emb = await engine_rows("sqlite", args.events, paced, workdir)
            rows.extend(emb)
            full = emb[0]
            # The target of issue #3: the end-to-end pipeline against plain inserts.
            rows.append(
                ratio_row(
                    "embedded / raw",
                    full,
                    raw,
                    ">= 0.67 and >= 10,000/s",
                    full["events_per_s"] >= 10_000 and full["events_per_s"] >= 2 / 3 * raw["events_per_s"],
                )
            )
            # For information: like for like, beside the required ratio above.
            rows.append(_info_ratio("embedded / raw pipeline", full, raw_pipe))
            rows.append(_info_ratio("publish only / raw inserts", publish_only, raw))
        if "jetstream" in args.engines:
            raw_js = await raw_nats_pipeline(args.events, None)
            raw_js_paced = await raw_nats_pipeline(paced, 500.0)
            rows.append({"pipeline": "raw nats-py", "mode": "full speed", **raw_js})
            rows.append({"pipeline": "raw nats-py", "mode": "paced 500/s", **raw_js_paced})
            js_rows = await engine_rows("jetstream", args.events, paced, workdir)
            rows.extend(js_rows)
            rows.append(
                ratio_row(
                    "jetstream / raw",
                    js_rows[0],
                    raw_js,
                    ">= 0.75",
                    js_rows[0]["events_per_s"] >= 0.75 * raw_js["events_per_s"],
                )
            )
    report(
        "bus",
        "Bus: publish -> route by content -> two durable sinks (1 KiB CloudEvents)",
        ["pipeline", "mode", "events", "events_per_s", "p50_ms", "p99_ms", "target", "met"],
        rows,
        notes="Latency is end to end, from event creation to the sink's fetch. "
        "The raw references ran in this same run.",
    )


if __name__ == "__main__":
    asyncio.run(main())
