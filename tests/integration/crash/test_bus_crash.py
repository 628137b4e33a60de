"""kill -9 a publisher and a consumer at random moments; nothing acknowledged is lost or applied twice."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nats
import psycopg
import pytest

from polestar.bus.pg_outbox import OutboxTables

HERE = Path(__file__).parent
TOTAL = int(os.environ.get("POLESTAR_CRASH_MESSAGES", "20000"))
SEED = int(os.environ.get("POLESTAR_CRASH_SEED", str(random.SystemRandom().randrange(1 << 30))))


class Child:
    def __init__(self, role: str, cfg: dict[str, Any], logdir: Path) -> None:
        self.role, self.cfg, self.logdir = role, cfg, logdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        env = {**os.environ, "PYTHONPATH": str(HERE)}
        with (self.logdir / f"{self.role}.{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, str(HERE / "_child.py"), self.role, json.dumps(self.cfg)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    def kill(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def failed(self) -> str | None:
        """The log of a child that exited on its own with an error, if any."""
        if self.proc is not None and self.proc.poll() not in (None, 0, -signal.SIGKILL):
            return (self.logdir / f"{self.role}.{self.starts}.log").read_text()
        return None


def _acked(workdir: Path) -> set[int]:
    log = workdir / "acked.log"
    return {int(x) for x in log.read_text().split()} if log.exists() else set()


def _run_with_kills(
    cfg: dict[str, Any], workdir: Path, count_effects: Any
) -> tuple[set[int], list[int], int, int]:
    rng = random.Random(SEED)
    publisher, consumer = Child("publisher", cfg, workdir), Child("consumer", cfg, workdir)
    publisher.start()
    consumer.start()
    kills = {"publisher": 0, "consumer": 0}
    log = workdir / "acked.log"

    def progress() -> int:
        return log.stat().st_size if log.exists() else 0

    # The publisher is killed after a random amount of new progress in each life (so it is
    # always killed mid-run, however fast the engine has become); the consumer on a random
    # clock that starts once it says it is connected (``consumer.ready``), so each life does
    # some work however slowly the machine imports and connects.
    ready = workdir / "consumer.ready"
    kill_publisher_at = progress() + rng.randint(1_500, 15_000)  # bytes of acked.log, ~6 per message
    kill_consumer_at: float | None = None

    def restart_consumer() -> None:
        consumer.kill()
        kills["consumer"] += 1
        ready.unlink(missing_ok=True)
        consumer.start()

    deadline = time.monotonic() + 240
    try:
        while not (workdir / "publisher.done").exists():
            assert time.monotonic() < deadline, f"publisher did not finish in time (seed {SEED})"
            time.sleep(0.01)
            for child in (publisher, consumer):
                problem = child.failed()
                assert problem is None, f"{child.role} crashed by itself (seed {SEED}):\n{problem}"
            if (workdir / "publisher.done").exists():
                break
            if progress() >= kill_publisher_at:
                publisher.kill()
                kills["publisher"] += 1
                publisher.start()
                kill_publisher_at = progress() + rng.randint(1_500, 15_000)
            if kill_consumer_at is None and ready.exists():
                kill_consumer_at = time.monotonic() + rng.uniform(0.1, 1.0)
            if kill_consumer_at is not None and time.monotonic() >= kill_consumer_at:
                restart_consumer()
                kill_consumer_at = None
        # A last kill of the consumer mid-drain, then let it finish.
        time.sleep(rng.uniform(0.1, 0.5))
        restart_consumer()
        acked = _acked(workdir)
        # The drain fails when it stops moving for a minute, not at a fixed time: a loaded
        # machine drains slowly, a lost message never.
        applied, moved_at = 0, time.monotonic()
        while applied < len(acked) and time.monotonic() - moved_at < 60:
            problem = consumer.failed()
            assert problem is None, f"consumer crashed by itself (seed {SEED}):\n{problem}"
            time.sleep(0.5)
            now_applied = len(set(count_effects()))
            if now_applied > applied:
                applied, moved_at = now_applied, time.monotonic()
        time.sleep(1.0)  # let any duplicate application show itself
        return acked, count_effects(), kills["publisher"], kills["consumer"]
    finally:
        publisher.kill()
        consumer.kill()


def _assert_nothing_lost_nothing_twice(acked: set[int], effects: list[int], kp: int, kc: int) -> None:
    assert len(acked) == TOTAL, f"publisher acknowledged {len(acked)} of {TOTAL} (seed {SEED})"
    missing = acked - set(effects)
    assert not missing, (
        f"{len(missing)} acknowledged messages never applied, e.g. {sorted(missing)[:5]} (seed {SEED})"
    )
    twice = len(effects) - len(set(effects))
    assert twice == 0, f"{twice} side effects applied twice (seed {SEED})"
    assert kp >= 2, f"the publisher was killed only {kp} times; the run proves little (seed {SEED})"
    assert kc >= 2, f"the consumer was killed only {kc} times; the run proves little (seed {SEED})"


@pytest.mark.slow
def test_sqlite_bus_survives_kill_9_of_publisher_and_consumer(tmp_path: Path) -> None:
    cfg = {
        "engine": "sqlite",
        "workdir": str(tmp_path),
        "total": TOTAL,
        "bus": {"path": str(tmp_path / "bus.sqlite3"), "retention": {"dedupe_window": 3600}},
    }

    def effects() -> list[int]:
        db = tmp_path / "bus.sqlite3"
        if not db.exists():
            return []
        with sqlite3.connect(db, timeout=30) as conn:
            try:
                return [r[0] for r in conn.execute("SELECT i FROM crash_effects")]
            except sqlite3.OperationalError:
                return []

    _assert_nothing_lost_nothing_twice(*_run_with_kills(cfg, tmp_path, effects))


@pytest.mark.slow
@pytest.mark.nats
@pytest.mark.postgres
def test_jetstream_bus_survives_kill_9_of_publisher_and_consumer(
    tmp_path: Path, unique: str, nats_url: str, postgres_url: str, postgres_schema: str
) -> None:
    async def prepare() -> None:
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
            await conn.execute(f'CREATE TABLE "{postgres_schema}".effects (i integer NOT NULL)')
            await OutboxTables.define(schema=postgres_schema).create(conn)

    asyncio.run(prepare())
    cfg = {
        "engine": "jetstream",
        "workdir": str(tmp_path),
        "total": TOTAL,
        "postgres_url": postgres_url,
        "schema": postgres_schema,
        "bus": {
            "servers": [nats_url],
            "stream_prefix": unique.upper(),
            "subject_prefix": unique,
            "retention": {"dedupe_window": 3600},
        },
    }

    def effects() -> list[int]:
        with psycopg.connect(postgres_url) as conn:
            return [r[0] for r in conn.execute(f'SELECT i FROM "{postgres_schema}".effects')]

    try:
        _assert_nothing_lost_nothing_twice(*_run_with_kills(cfg, tmp_path, effects))
    finally:
        asyncio.run(_delete_streams(nats_url, unique.upper()))


async def _delete_streams(url: str, prefix: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    for info in await js.streams_info():
        if info.config.name and info.config.name.startswith(prefix):
            await js.delete_stream(info.config.name)
    await nc.close()
