"""Bus benchmark: 1 KiB CloudEvents through publish -> route by content -> two durable sinks.

For each engine (embedded SQLite, NATS JetStream) the same pipeline runs twice:
at full speed, and paced at 500 events/s for the latency a quiet hub shows. The
router takes a batch, routes each event by content to sink A or B as a caused
event, and publishes the outputs and acknowledges the inputs in one step
(``polestar.bus.worker.forward``); each sink acknowledges its batch at once.

Beside each engine, the raw limits measured in the same run (``_bus_raw``):

* SQLite: plain group-commit inserts of the same 1 KiB rows, and the whole pipeline
  written by hand on plain SQLite (cursors, no leases, dedupe or validation).
* JetStream: the same pipeline written directly on nats-py.

Targets (issue #3), as ratios in the same run, each with its own verdict:

* embedded >= 10,000 events/s end to end at synchronous=FULL;
* embedded >= 2/3 of the raw SQLite inserts. Read literally this cannot be met: every
  event is written twice end to end (the input and its routed copy), each read twice,
  and each has its own lease per group, so even a pipeline of bare inserts would do
  half the raw rate. The ratio is reported as asked, and beside it the like-for-like
  ratio to the hand-written raw pipeline, with a verdict for each;
* JetStream >= 3/4 of raw nats-py.

Two shared cores make single runs noisy: ``--repeat N`` runs everything N times and
reports the median with the range; verdicts count the runs that met each target.

Run: ``make bench`` or ``.venv/bin/python bench/bus.py [--events N] [--paced-seconds S] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _bus_events import KINDS, NATS_URL, make_event, routed
from _bus_raw import raw_nats_pipeline, raw_sqlite_inserts, raw_sqlite_pipeline
from _report import percentile, report
from polestar.bus.config import JetStreamBusConfig, SqliteBusConfig
from polestar.bus.contract import BusEngine, ConsumerSpec
from polestar.bus.factory import open_engine
from polestar.bus.worker import ack_all, forward

BATCH = 512
"""Most deliveries one fetch of the router or a sink takes."""

ROUTERS = 2
"""Competing members of the router group: one routes while the other waits for its commit."""


async def run_engine_pipeline(engine: BusEngine, events: int, paced_rate: float | None) -> dict[str, Any]:
    """Publish ``events``; a router group forwards each by content to sink A or B; sinks ack."""
    latencies: list[float] = []
    done = asyncio.Event()
    received = 0
    tag = uuid.uuid4().hex[:8]
    routers = [
        await engine.subscribe(ConsumerSpec(group=f"router{tag}", subjects=(f"in{tag}.>",), ack_wait=30))
        for _ in range(ROUTERS)
    ]
    sinks = [
        await engine.subscribe(
            ConsumerSpec(group=f"sink{s}{tag}", subjects=(f"out{tag}.{s}.>",), ack_wait=30)
        )
        for s in ("a", "b")
    ]

    async def route(router: Any) -> None:
        while not done.is_set():
            batch = await router.fetch(BATCH, timeout=0.2)
            if batch:
                await forward(engine, [routed(d.message.envelope, tag) for d in batch], batch)

    def settled(count: int, task: asyncio.Task[None]) -> None:
        nonlocal received
        if task.cancelled() or task.exception() is not None:
            return  # the sink's await reports it
        received += count
        if received >= events:
            done.set()

    async def sink(consumer: Any) -> None:
        acking: asyncio.Task[None] | None = None
        while not done.is_set():
            batch = await consumer.fetch(BATCH, timeout=0.2)
            now = time.perf_counter_ns()
            latencies.extend((now - (d.message.envelope.data or {})["sent_ns"]) / 1e6 for d in batch)
            if not batch:
                continue
            # One acknowledgement in flight while the next batch is fetched, as a sink writing
            # in bulk would do; an event counts as received once its acknowledgement committed.
            if acking is not None:
                await acking
            acking = asyncio.create_task(ack_all(engine, batch))
            acking.add_done_callback(functools.partial(settled, len(batch)))
        if acking is not None:
            await acking

    workers = [
        *(asyncio.create_task(route(r)) for r in routers),
        *(asyncio.create_task(sink(c)) for c in sinks),
    ]
    start = time.perf_counter()
    cpu_start, loop_start = time.process_time(), time.thread_time()
    if paced_rate:
        interval = 1.0 / paced_rate
        for i in range(events):
            delay = start + i * interval - time.perf_counter()
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
    cpu, loop_cpu = time.process_time() - cpu_start, time.thread_time() - loop_start
    done.set()
    for w in workers:
        w.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await w
    for c in (*routers, *sinks):
        await c.close()
    return {
        "events": events,
        "events_per_s": events / elapsed,
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "cpu_us": cpu / events * 1e6,
        "loop_us": loop_cpu / events * 1e6,
    }


async def engine_publish_only(workdir: Path, events: int) -> dict[str, Any]:
    """The engine's publish alone, on the same rows as the raw inserts, 500 per call."""
    engine = open_engine(
        SqliteBusConfig(path=workdir / f"bus-publish-{uuid.uuid4().hex[:6]}.sqlite3"), workdir
    )
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


async def engine_rows(kind: str, events: int, paced_events: int, workdir: Path) -> list[dict[str, Any]]:
    """The pipeline on one engine, at full speed and paced at 500 events/s."""
    rows = []
    for mode, count, rate in (("full speed", events, None), ("paced 500/s", paced_events, 500.0)):
        if kind == "sqlite":
            config: Any = SqliteBusConfig(path=workdir / f"bus-{mode[:4]}-{uuid.uuid4().hex[:6]}.sqlite3")
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


# --- one run, and the verdicts -------------------------------------------------------------------

Rows = dict[tuple[str, str], dict[str, Any]]
"""A run's measurements by (pipeline, mode)."""

TARGETS: tuple[tuple[str, str, str, str, float], ...] = (
    # name, engine row, reference row ("" for an absolute rate), target text, threshold
    ("embedded end to end", "polestar sqlite", "", ">= 10,000 events/s", 10_000.0),
    ("embedded / raw inserts", "polestar sqlite", "raw sqlite inserts", ">= 0.67 (issue's ratio)", 2 / 3),
    ("embedded / raw pipeline", "polestar sqlite", "raw sqlite pipeline", ">= 0.67 (like for like)", 2 / 3),
    ("jetstream / raw nats-py", "polestar jetstream", "raw nats-py", ">= 0.75", 0.75),
)


async def one_run(args: argparse.Namespace, workdir: Path) -> Rows:
    """Every pipeline once, references first; results by (pipeline, mode)."""
    paced = int(args.paced_seconds * 500)
    rows: list[dict[str, Any]] = []
    if "sqlite" in args.engines:
        rows.append(
            {"pipeline": "raw sqlite inserts", "mode": "full speed"}
            | raw_sqlite_inserts(workdir / f"raw-{uuid.uuid4().hex[:6]}.sqlite3", args.events)
        )
        rows.append(
            {"pipeline": "raw sqlite pipeline", "mode": "full speed"}
            | raw_sqlite_pipeline(workdir / f"raw-pipeline-{uuid.uuid4().hex[:6]}.sqlite3", args.events)
        )
        rows.append(
            {"pipeline": "polestar sqlite", "mode": "publish only"}
            | await engine_publish_only(workdir, args.events)
        )
        rows.extend(await engine_rows("sqlite", args.events, paced, workdir))
    if "jetstream" in args.engines:
        rows.append(
            {"pipeline": "raw nats-py", "mode": "full speed"} | await raw_nats_pipeline(args.events, None)
        )
        rows.append(
            {"pipeline": "raw nats-py", "mode": "paced 500/s"} | await raw_nats_pipeline(paced, 500.0)
        )
        rows.extend(await engine_rows("jetstream", args.events, paced, workdir))
    return {(r["pipeline"], r["mode"]): r for r in rows}


def target_values(run: Rows) -> dict[str, float]:
    """Each target's measured value in one run (rate, or ratio to a reference of the same run)."""
    values: dict[str, float] = {}
    for name, engine, reference, _, _ in TARGETS:
        measured = run.get((engine, "full speed"))
        if measured is None:
            continue
        value = measured["events_per_s"]
        if reference:
            value /= run[(reference, "full speed")]["events_per_s"]
        values[name] = value
    publish, inserts = (
        run.get(("polestar sqlite", "publish only")),
        run.get(("raw sqlite inserts", "full speed")),
    )
    if publish and inserts:
        values["publish only / raw inserts"] = publish["events_per_s"] / inserts["events_per_s"]
    return values


def summarise(runs: list[Rows]) -> list[dict[str, Any]]:
    """Median and range of every row over the runs, then one verdict row per target."""
    out: list[dict[str, Any]] = []
    for key in runs[0]:
        samples = [run[key] for run in runs]
        row = dict(samples[-1])
        for column in ("events_per_s", "p50_ms", "p99_ms", "cpu_us", "loop_us"):
            values = [s[column] for s in samples if isinstance(s.get(column), float)]
            if values:
                row[column] = statistics.median(values)
                if column == "events_per_s" and len(values) > 1:
                    row["range"] = f"{min(values):,.0f}-{max(values):,.0f}"
        out.append(row)
    measured = [target_values(run) for run in runs]
    thresholds = {name: (text, threshold) for name, _, _, text, threshold in TARGETS}
    for name in measured[0]:
        values = [m[name] for m in measured]
        row = {"pipeline": name, "mode": "target" if name in thresholds else "ratio"}
        row["events_per_s"] = statistics.median(values)
        if len(values) > 1:
            digits = 0 if min(values) >= 100 else 2
            row["range"] = f"{min(values):,.{digits}f}-{max(values):,.{digits}f}"
        if name in thresholds:
            text, threshold = thresholds[name]
            met = sum(v >= threshold for v in values)
            row["target"] = text
            row["met"] = (
                f"{'yes' if statistics.median(values) >= threshold else 'NO'} ({met}/{len(values)} runs)"
            )
        else:
            row["target"] = "(information)"
        out.append(row)
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--paced-seconds", type=float, default=10.0)
    parser.add_argument("--engines", default="sqlite,jetstream")
    parser.add_argument("--repeat", type=int, default=1, help="runs of everything; the median is reported")
    args = parser.parse_args()
    runs: list[Rows] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(max(1, args.repeat)):
            runs.append(await one_run(args, Path(tmp)))  # noqa: PERF401 - one run at a time, awaited
    report(
        "bus",
        "Bus: publish -> route by content -> two durable sinks (1 KiB CloudEvents)",
        [
            "pipeline",
            "mode",
            "events",
            "events_per_s",
            "range",
            "p50_ms",
            "p99_ms",
            "cpu_us",
            "loop_us",
            "target",
            "met",
        ],
        summarise(runs),
        notes=f"Median of {len(runs)} run(s); range is min-max. Latency is end to end, from event "
        "creation to the sink's fetch. cpu_us is process CPU per event over the run "
        "(every thread), loop_us the event loop thread's share. Ratios are taken within each run, "
        "against references measured in that same run.",
    )


if __name__ == "__main__":
    asyncio.run(main())
