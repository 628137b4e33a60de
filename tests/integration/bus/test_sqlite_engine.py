"""SQLite-only behaviour: WAL, synchronous, another process on the same file, group commit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _bus_helpers import ack_all, collect, event, spec

from polestar.bus.config import SqliteBusConfig, SqliteSynchronous
from polestar.bus.contract import PublishAck, RetentionPolicy
from polestar.bus.sqlite import SqliteEngine
from polestar.errors import DeadLetterNotFound

CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from polestar.bus.config import SqliteBusConfig
    from polestar.bus.contract import ConsumerSpec
    from polestar.bus.sqlite import SqliteEngine

    async def main(path, mode, count):
        engine = SqliteEngine(SqliteBusConfig(path=Path(path), poll_interval=0.02))
        await engine.start()
        consumer = await engine.subscribe(ConsumerSpec(group="g", ack_wait=float(sys.argv[4])))
        got = []
        idle = 0
        while idle < 10 and len(got) < count:
            deliveries = await consumer.fetch(5, timeout=0.1)
            idle = 0 if deliveries else idle + 1
            for d in deliveries:
                got.append(d.message.sequence)
                await asyncio.sleep(0.002)
                if mode == "ack":
                    await d.ack()
        print(json.dumps(got), flush=True)
        if mode == "crash":
            import os
            os._exit(0)  # no settle, no close: as if killed
        await engine.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
    """
)


def config(tmp_path: Path, **changes: object) -> SqliteBusConfig:
    values: dict[str, object] = {"path": tmp_path / "bus.sqlite3", "poll_interval": 0.02}
    values.update(changes)
    return SqliteBusConfig.model_validate(values)


@pytest.fixture
async def sqlite_engine(tmp_path: Path):
    engine = SqliteEngine(config(tmp_path))
    await engine.start()
    yield engine
    await engine.close()


def child(tmp_path: Path, mode: str, count: int, ack_wait: float = 5.0) -> subprocess.Popen[str]:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "bus.sqlite3"), mode, str(count), str(ack_wait)],
        stdout=subprocess.PIPE,
        text=True,
    )


async def child_has_claimed(path: Path, group: str, timeout: float = 60.0) -> None:
    """Wait until some member of ``group`` has moved its cursor (taken its first messages)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            row = conn.execute("SELECT cursor FROM groups WHERE name = ?", (group,)).fetchone()
        if row is not None and row[0] > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no member of {group!r} claimed anything in {timeout} s")


async def finished(proc: subprocess.Popen[str]) -> list[int]:
    out, _ = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 0
    return json.loads(out.strip().splitlines()[-1])


async def test_the_bus_file_is_in_wal_mode(sqlite_engine, tmp_path):
    with sqlite3.connect(tmp_path / "bus.sqlite3") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


@pytest.mark.parametrize(("setting", "level"), [(SqliteSynchronous.FULL, 2), (SqliteSynchronous.NORMAL, 1)])
async def test_the_writer_uses_the_configured_synchronous_level(tmp_path, setting, level):
    engine = SqliteEngine(config(tmp_path, synchronous=setting))
    await engine.start()
    try:
        assert engine._core is not None
        seen = await engine._core.run(lambda conn: conn.execute("PRAGMA synchronous").fetchone()[0])
        assert seen == level
    finally:
        await engine.close()


async def test_at_full_only_lease_and_ack_transactions_skip_the_fsync(tmp_path):
    engine = SqliteEngine(config(tmp_path, synchronous=SqliteSynchronous.FULL))
    await engine.start()
    try:
        assert engine._core is not None
        level = lambda conn: conn.execute("PRAGMA synchronous").fetchone()[0]  # noqa: E731
        assert await engine._core.run(level, durable=False) == 1  # NORMAL: a lost lease is a redelivery
        assert await engine._core.run(level) == 2  # FULL for everything else
    finally:
        await engine.close()


async def test_a_relative_path_lives_under_the_data_folder(tmp_path):
    engine = SqliteEngine(SqliteBusConfig(path=Path("nested/bus.sqlite3")), data_dir=tmp_path)
    async with engine:
        await engine.publish(event(1))
    assert (tmp_path / "nested" / "bus.sqlite3").exists()


async def test_many_concurrent_publishes_share_commits_and_get_distinct_sequences(sqlite_engine):
    acks = await asyncio.gather(*(sqlite_engine.publish(event(n)) for n in range(500)))
    sequences = sorted(a.sequence for a in acks)
    assert sequences == list(range(sequences[0], sequences[0] + 500))


async def test_one_failing_operation_does_not_fail_its_neighbours_in_a_commit(sqlite_engine):
    results = await asyncio.gather(
        *(sqlite_engine.publish(event(n)) for n in range(20)),
        sqlite_engine.discard_dead_letter("no-such-letter"),
        return_exceptions=True,
    )
    assert isinstance(results[-1], DeadLetterNotFound)
    assert all(isinstance(r, PublishAck) for r in results[:-1])
    assert (await sqlite_engine.stats()).messages == 20


async def test_another_process_competes_for_the_same_group_without_sharing_a_message(sqlite_engine, tmp_path):
    await sqlite_engine.publish_many([(event(n), None) for n in range(200)])
    other = child(tmp_path, "ack", 200)
    # Compete only once the child is taking messages: a fast parent would otherwise be done
    # with all 200 before the child's interpreter has started.
    await child_has_claimed(tmp_path / "bus.sqlite3", "g")
    consumer = await sqlite_engine.subscribe(spec(ack_wait=5.0))
    mine: list[int] = []
    idle = 0
    while idle < 10:
        deliveries = await consumer.fetch(5, timeout=0.1)
        idle = 0 if deliveries else idle + 1
        for d in deliveries:
            mine.append(d.message.sequence)
            await asyncio.sleep(0.002)
            await d.ack()
    theirs = await finished(other)
    assert not set(mine) & set(theirs)
    assert len(mine) + len(theirs) == 200
    assert mine
    assert theirs


async def test_messages_leased_by_a_process_that_died_come_back_after_ack_wait(sqlite_engine, tmp_path):
    await sqlite_engine.publish_many([(event(n), None) for n in range(5)])
    crashed = await finished(child(tmp_path, "crash", 5, ack_wait=0.5))
    assert len(crashed) == 5
    consumer = await sqlite_engine.subscribe(spec(ack_wait=0.5))
    again = await collect(consumer, 5, timeout=5)
    assert sorted(d.message.sequence for d in again) == sorted(crashed)
    assert {d.attempt for d in again} == {2}
    await ack_all(again)


async def test_a_publish_from_another_process_reaches_a_waiting_consumer(sqlite_engine, tmp_path):
    consumer = await sqlite_engine.subscribe(spec())
    other = SqliteEngine(config(tmp_path))
    async with other:  # a separate engine stands in for another process: no shared wake-up
        waiting = asyncio.create_task(consumer.fetch(1, timeout=5))
        await asyncio.sleep(0.1)
        await other.publish(event(42))
    (delivery,) = await waiting
    assert delivery.message.envelope.data["n"] == 42


async def test_prune_forgets_old_idempotency_keys(tmp_path):
    engine = SqliteEngine(config(tmp_path, retention=RetentionPolicy(dedupe_window=0.2)))
    async with engine:
        envelope = event(1)
        first = await engine.publish(envelope)
        await asyncio.sleep(0.3)
        await engine.prune()
        second = await engine.publish(envelope)
        assert not second.duplicate
        assert second.sequence > first.sequence
