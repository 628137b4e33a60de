"""SQLite-only: repeated idempotency keys are recognised from memory, but the record is on disk.

Each writer (the engine's writer thread, an outbox connection) keeps the keys
of the dedupe window in memory and catches up on other writers' keys inside
each write transaction; these tests check that a restart, a second engine or
process, the outbox, a rolled-back transaction and an old bus file all still
see the same repeats.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import textwrap
from pathlib import Path

import pytest
from _bus_helpers import event

from polestar.bus.config import SqliteBusConfig, SqliteSynchronous
from polestar.bus.contract import PublishAck, RetentionPolicy
from polestar.bus.outbox import SqliteOutbox
from polestar.bus.sqlite import SqliteEngine, schema
from polestar.bus.sqlite.dedupe import DedupeMemory
from polestar.bus.sqlite.publishing import insert_messages
from polestar.bus.sqlite.rows import Outgoing
from polestar.errors import DeadLetterNotFound

PUBLISHER = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from polestar.bus.config import SqliteBusConfig
    from polestar.bus.sqlite import SqliteEngine
    from polestar.model.envelope import Envelope

    async def main(path, keys):
        engine = SqliteEngine(SqliteBusConfig(path=Path(path), poll_interval=0.02))
        await engine.start()
        acks = []
        for key in keys:
            envelope = Envelope(source="/tests/child", type="custody.detainee.released", data={"k": key})
            ack = await engine.publish(envelope, idempotency_key=key)
            acks.append([ack.sequence, ack.duplicate])
        await engine.close()
        print(json.dumps(acks), flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2].split(",")))
    """
)


def config(tmp_path: Path, **changes: object) -> SqliteBusConfig:
    values: dict[str, object] = {"path": tmp_path / "bus.sqlite3", "poll_interval": 0.02}
    values.update(changes)
    return SqliteBusConfig.model_validate(values)


async def publish_in_another_process(tmp_path: Path, keys: list[str]) -> list[tuple[int, bool]]:
    script = tmp_path / "publisher.py"
    script.write_text(PUBLISHER)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        str(tmp_path / "bus.sqlite3"),
        ",".join(keys),
        stdout=asyncio.subprocess.PIPE,
    )
    out_bytes, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0
    out = out_bytes.decode()
    return [(seq, dup) for seq, dup in json.loads(out.strip().splitlines()[-1])]


async def test_a_repeat_after_a_restart_is_recognised(tmp_path):
    async with SqliteEngine(config(tmp_path)) as engine:
        original = await engine.publish(event(1), idempotency_key="upload-1")
    async with SqliteEngine(config(tmp_path)) as reopened:
        again = await reopened.publish(event(2), idempotency_key="upload-1")
        fresh = await reopened.publish(event(3), idempotency_key="upload-2")
        assert (again.sequence, again.duplicate) == (original.sequence, True)
        assert not fresh.duplicate
        assert (await reopened.stats()).messages == 2


async def test_two_engines_on_one_file_recognise_each_others_keys_both_ways(tmp_path):
    async with SqliteEngine(config(tmp_path)) as first, SqliteEngine(config(tmp_path)) as second:
        a = await first.publish(event(1), idempotency_key="a")
        assert await second.publish(event(1), idempotency_key="a") == PublishAck(a.sequence, duplicate=True)
        later = [event(2), event(3)]
        stored = await second.publish_many([(e, None) for e in later])
        # ``first`` only knows its own key: it must read the rows ``second`` added since.
        again = await first.publish_many([(later[1], None), (event(4), None)])
        assert again[0] == PublishAck(stored[1].sequence, duplicate=True)
        assert not again[1].duplicate
        assert (await first.stats()).messages == 4


async def test_a_repeat_from_another_process_is_recognised_both_ways(tmp_path):
    async with SqliteEngine(config(tmp_path)) as engine:
        mine = await engine.publish(event(1), idempotency_key="from-parent")
        theirs = await publish_in_another_process(tmp_path, ["from-parent", "from-child"])
        assert theirs[0] == (mine.sequence, True)
        assert not theirs[1][1]
        again = await engine.publish(event(2), idempotency_key="from-child")
        assert (again.sequence, again.duplicate) == (theirs[1][0], True)
        assert (await engine.stats()).messages == 2


async def test_keys_of_a_rolled_back_batch_are_neither_lost_nor_invented(tmp_path):
    async with SqliteEngine(config(tmp_path)) as engine:
        # The failing neighbour rolls the shared transaction back; the writer then
        # retries each operation alone. The publish must end up stored exactly once.
        results = await asyncio.gather(
            engine.publish(event(1), idempotency_key="k1"),
            engine.discard_dead_letter("no-such-letter"),
            return_exceptions=True,
        )
        assert isinstance(results[1], DeadLetterNotFound)
        first = results[0]
        assert isinstance(first, PublishAck)
        assert not first.duplicate
        again = await engine.publish(event(1), idempotency_key="k1")
        assert (again.sequence, again.duplicate) == (first.sequence, True)
        assert (await engine.stats()).messages == 1


async def test_the_outbox_and_the_engine_recognise_each_others_keys(tmp_path):
    async with SqliteEngine(config(tmp_path)) as engine:
        outbox = SqliteOutbox(engine)
        try:
            sent = event(1)
            by_engine = await engine.publish(sent)
            by_outbox = await outbox.run(lambda tx: tx.publish(sent))
            assert (by_outbox.sequence, by_outbox.duplicate) == (by_engine.sequence, True)

            other = event(2)
            first = await outbox.run(lambda tx: tx.publish(other))
            again = await engine.publish(other)
            assert (again.sequence, again.duplicate) == (first.sequence, True)
            assert (await engine.stats()).messages == 2
        finally:
            outbox.close()


async def test_a_key_from_a_rolled_back_outbox_transaction_is_not_a_repeat(tmp_path):
    async with SqliteEngine(config(tmp_path)) as engine:
        outbox = SqliteOutbox(engine)
        try:
            sent = event(1)

            def publish_then_fail(tx):  # type: ignore[no-untyped-def]
                tx.publish(sent)
                raise RuntimeError("the application's write failed")

            with pytest.raises(RuntimeError):
                await outbox.run(publish_then_fail)
            by_outbox = await outbox.run(lambda tx: tx.publish(sent))
            assert not by_outbox.duplicate
            by_engine = await engine.publish(sent)
            assert (by_engine.sequence, by_engine.duplicate) == (by_outbox.sequence, True)
            assert (await engine.stats()).messages == 1
        finally:
            outbox.close()


async def test_a_key_outside_the_window_is_stored_again_without_a_prune(tmp_path):
    async with SqliteEngine(config(tmp_path, retention=RetentionPolicy(dedupe_window=0.2))) as engine:
        first = await engine.publish(event(1))
        await asyncio.sleep(0.3)
        second = await engine.publish(event(1))
        assert not second.duplicate
        assert second.sequence > first.sequence


async def test_a_bus_file_of_schema_version_1_keeps_its_keys(tmp_path):
    path = tmp_path / "bus.sqlite3"
    async with SqliteEngine(config(tmp_path)) as engine:
        original = await engine.publish(event(1), idempotency_key="before-upgrade")
    # Put the file back to version 1: dedupe kept by key, with an index on the time.
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT key, seq, at FROM dedupe").fetchall()
        conn.execute("DROP TABLE dedupe")
        conn.execute("CREATE TABLE dedupe (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, at REAL NOT NULL)")
        conn.execute("CREATE INDEX dedupe_at ON dedupe (at)")
        conn.executemany("INSERT INTO dedupe (key, seq, at) VALUES (?, ?, ?)", rows)
        conn.execute("PRAGMA user_version = 1")
    async with SqliteEngine(config(tmp_path)) as upgraded:
        again = await upgraded.publish(event(2), idempotency_key="before-upgrade")
        assert (again.sequence, again.duplicate) == (original.sequence, True)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "dedupe_at" not in indexes


@pytest.fixture
def two_writers(tmp_path):
    """Two connections to one bus file, as two processes' writers would hold them."""
    first = schema.connect(tmp_path / "bus.sqlite3", SqliteSynchronous.NORMAL)
    schema.create_schema(first)
    second = schema.connect(tmp_path / "bus.sqlite3", SqliteSynchronous.NORMAL)
    yield first, second
    first.close()
    second.close()


def store(conn: sqlite3.Connection, memory: DedupeMemory, keys: list[str]) -> list[tuple[int, bool]]:
    items = [Outgoing("custody.detainee.released", None, b"{}", key) for key in keys]
    acks = insert_messages(conn, items, dedupe_window=60, max_messages=None, memory=memory)
    return [(ack.sequence, ack.duplicate) for ack in acks]


def in_transaction(conn: sqlite3.Connection, memory: DedupeMemory, keys: list[str], *, commit: bool):
    conn.execute("BEGIN IMMEDIATE")
    acks = store(conn, memory, keys)
    conn.execute("COMMIT" if commit else "ROLLBACK")
    return acks


@pytest.mark.parametrize("told", [True, False], ids=["told-of-the-rollback", "not-told"])
def test_sequences_taken_over_after_a_rollback_are_read_again(two_writers, told):
    first, second = two_writers
    mine, theirs = DedupeMemory(60), DedupeMemory(60)
    assert in_transaction(first, mine, ["k1", "k2"], commit=False) == [(1, False), (2, False)]
    if told:
        mine.rolled_back()
    # The other writer gets the same sequence numbers for different keys.
    assert in_transaction(second, theirs, ["k3", "k4"], commit=True) == [(1, False), (2, False)]
    theirs.committed()
    assert in_transaction(first, mine, ["k4", "k1", "k3"], commit=True) == [(2, True), (3, False), (1, True)]
