"""The checkpoint thread copies committed pages into the database file, off the writer's thread."""

from __future__ import annotations

import functools
import time
from pathlib import Path

from polestar.bus.config import SqliteSynchronous
from polestar.bus.sqlite import schema
from polestar.bus.sqlite.checkpoint import Checkpointer


def _fill(conn, rows: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO messages (subject, pkey, body, published_at) VALUES ('a.b', NULL, ?, 0)",
        [(b"x" * 1000,) for _ in range(rows)],
    )
    conn.execute("COMMIT")


def test_committed_pages_reach_the_database_file_without_the_writer_checkpointing(tmp_path: Path):
    path = tmp_path / "bus.sqlite3"
    writer = schema.connect(path, SqliteSynchronous.FULL)
    schema.create_schema(writer)
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # only the checkpointer may copy pages back
    before = path.stat().st_size
    connect = functools.partial(schema.connect, path, SqliteSynchronous.FULL)
    checkpointer = Checkpointer(connect, interval=0.01)
    checkpointer.start()
    try:
        _fill(writer, 200)
        assert path.stat().st_size == before  # still only in the WAL
        checkpointer.committed()
        deadline = time.monotonic() + 10
        while path.stat().st_size < before + 200 * 1000 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert path.stat().st_size >= before + 200 * 1000
    finally:
        checkpointer.stop()
        writer.close()


def test_stopping_without_commits_returns_at_once(tmp_path: Path):
    connect = functools.partial(schema.connect, tmp_path / "b.sqlite3", SqliteSynchronous.FULL)
    checkpointer = Checkpointer(connect)
    checkpointer.start()
    started = time.monotonic()
    checkpointer.stop()
    checkpointer.stop()  # a second stop is harmless
    assert time.monotonic() - started < 5
