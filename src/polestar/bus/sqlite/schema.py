"""The bus database: tables, pragmas and how a connection to it is opened.

One file holds everything. ``messages`` is the stream (``seq`` is the stream
position: AUTOINCREMENT, so a sequence is never reused even after pruning);
``groups`` holds each consumer group's cursor, the last stream position it has
looked at; ``dedupe`` records each stored message's idempotency key by
sequence, appended in order and looked up in memory (see ``dedupe``);
``pending`` holds, per group, the messages past nobody's finish line yet: in
flight (leased until ``ready_at``), waiting for a redelivery (``ready_at`` in
the future) or queued behind an earlier message of the same partition key.
A message that has been acknowledged has no ``pending`` row and sits behind the
cursor, so the common path costs one insert and one delete per group.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from polestar.bus.config import SqliteSynchronous
from polestar.errors import BusError

SCHEMA_VERSION = 2

BUSY_TIMEOUT_MS = 10_000
"""How long a connection waits for another process's write lock before giving up."""

WAL_AUTOCHECKPOINT_PAGES = 8000
"""WAL pages (4 KiB each) before SQLite copies them back into the database file."""

CACHE_KIB = 32 * 1024
"""Page cache of each bus connection, KiB (grown only as pages are used)."""

_DDL = """
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    subject      TEXT    NOT NULL,
    pkey         TEXT,
    body         BLOB    NOT NULL,
    published_at REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS dedupe (
    seq INTEGER PRIMARY KEY,
    key TEXT    NOT NULL,
    at  REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS groups (
    name       TEXT PRIMARY KEY,
    cursor     INTEGER NOT NULL,
    spec       TEXT    NOT NULL,
    created_at REAL    NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pending (
    grp          TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    pkey         TEXT,
    attempt      INTEGER NOT NULL,
    ready_at     REAL    NOT NULL,
    token        TEXT,
    history      TEXT    NOT NULL DEFAULT '[]',
    -- set only for a dead letter replayed after its message left the stream
    subject      TEXT,
    body         BLOB,
    published_at REAL,
    PRIMARY KEY (grp, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pending_key ON pending (grp, pkey, seq) WHERE pkey IS NOT NULL;
CREATE INDEX IF NOT EXISTS pending_ready ON pending (grp, ready_at);
CREATE TABLE IF NOT EXISTS dead_letters (
    id           TEXT PRIMARY KEY,
    grp          TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    subject      TEXT    NOT NULL,
    pkey         TEXT,
    body         BLOB    NOT NULL,
    published_at REAL    NOT NULL,
    reason       TEXT    NOT NULL,
    history      TEXT    NOT NULL,
    dead_at      REAL    NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_at ON dead_letters (dead_at);
CREATE TABLE IF NOT EXISTS processed (
    grp        TEXT NOT NULL,
    message_id TEXT NOT NULL,
    at         REAL NOT NULL,
    PRIMARY KEY (grp, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS processed_at ON processed (at);
"""


def connect(path: Path, synchronous: SqliteSynchronous) -> sqlite3.Connection:
    """Open a connection in autocommit mode (transactions are explicit) with the bus pragmas."""
    # check_same_thread=False: each connection is still used by one thread at a time,
    # guarded by its owner, but may be opened on one thread and used on another.
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {SqliteSynchronous(synchronous).value}")
    conn.execute("PRAGMA foreign_keys = OFF")
    # Checkpoint less often than the default 1000 pages: a page dirtied by many commits
    # (the pending indexes are hot) is then copied back to the file once, not each time.
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    # A consumer reads what was published moments ago; with SQLite's 2 MiB default a
    # backlog of a few thousand messages already reads every page back from the WAL file.
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables if missing; safe to run from several processes at once."""
    _check_json(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in _DDL.split(";"):
            if statement.strip():
                conn.execute(statement)
        _check_version(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _check_json(conn: sqlite3.Connection) -> None:
    # Batches go to SQLite as JSON lists (json_each); built in since SQLite 3.38, and in
    # nearly every earlier build, but say so plainly where it is missing.
    try:
        conn.execute("SELECT count(*) FROM json_each('[1]')").fetchone()
    except sqlite3.OperationalError as exc:
        raise BusError(
            f"SQLite {sqlite3.sqlite_version} lacks the JSON functions the bus needs ({exc}); "
            "use a Python built with SQLite 3.38 or newer"
        ) from exc


def _check_version(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version == 1:
        _dedupe_by_sequence(conn)
    elif version not in (0, SCHEMA_VERSION):
        raise BusError(f"bus database schema version {version}; this hub reads {SCHEMA_VERSION}")
    if version != SCHEMA_VERSION:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _dedupe_by_sequence(conn: sqlite3.Connection) -> None:
    """Version 1 kept ``dedupe`` by key; version 2 appends it by sequence."""
    conn.execute("DROP INDEX IF EXISTS dedupe_at")
    conn.execute("ALTER TABLE dedupe RENAME TO dedupe_v1")
    conn.execute("CREATE TABLE dedupe (seq INTEGER PRIMARY KEY, key TEXT NOT NULL, at REAL NOT NULL)")
    conn.execute("INSERT OR IGNORE INTO dedupe (seq, key, at) SELECT seq, key, at FROM dedupe_v1")
    conn.execute("DROP TABLE dedupe_v1")
