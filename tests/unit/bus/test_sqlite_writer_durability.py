"""Only transactions of leases and acknowledgements skip their fsync; anything else is FULL."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from pathlib import Path

import pytest

from polestar.bus.config import SqliteSynchronous
from polestar.bus.sqlite import schema
from polestar.bus.sqlite.writer import GroupCommitWriter

FULL, NORMAL = 2, 1


def _level(conn: sqlite3.Connection) -> int:
    """The ``synchronous`` level the transaction running this will commit with."""
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


def _writer(path: Path, setting: SqliteSynchronous, *, relax: bool) -> GroupCommitWriter:
    def connect() -> sqlite3.Connection:
        conn = schema.connect(path, setting)
        schema.create_schema(conn)
        return conn

    # A long gathering delay folds the calls of one test into one transaction.
    return GroupCommitWriter(connect, max_batch=100, delay=0.05, on_commit=lambda: None, relax=relax)


async def test_a_transaction_of_only_leases_and_acks_commits_without_fsync(tmp_path: Path):
    writer = _writer(tmp_path / "bus.sqlite3", SqliteSynchronous.FULL, relax=True)
    await asyncio.to_thread(writer.start)
    try:
        assert await writer.submit(_level, durable=False) == NORMAL
        assert await writer.submit(_level) == FULL
        assert await writer.submit(_level, durable=False) == NORMAL
    finally:
        await asyncio.to_thread(writer.stop)


async def test_a_publish_folded_in_with_acks_makes_the_whole_transaction_full(tmp_path: Path):
    writer = _writer(tmp_path / "bus.sqlite3", SqliteSynchronous.FULL, relax=True)
    await asyncio.to_thread(writer.start)
    try:
        levels = await asyncio.gather(
            writer.submit(_level, durable=False), writer.submit(_level), writer.submit(_level, durable=False)
        )
        assert levels == [FULL, FULL, FULL]
    finally:
        await asyncio.to_thread(writer.stop)


@pytest.mark.parametrize(
    ("setting", "level"), [(SqliteSynchronous.FULL, FULL), (SqliteSynchronous.NORMAL, NORMAL)]
)
async def test_without_relax_every_transaction_keeps_the_configured_level(tmp_path: Path, setting, level):
    writer = _writer(tmp_path / "bus.sqlite3", setting, relax=False)
    await asyncio.to_thread(writer.start)
    try:
        assert await writer.submit(_level, durable=False) == level
        assert await writer.submit(functools.partial(_level)) == level
    finally:
        await asyncio.to_thread(writer.stop)
