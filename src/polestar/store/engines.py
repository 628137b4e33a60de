"""SQLAlchemy engines for the store: SQLite (embedded) and PostgreSQL through psycopg 3 (cluster).

Statements are SQLAlchemy 2 Core on a synchronous connection, run on a worker
thread (``asyncio.to_thread``) so the event loop never blocks, as the audit
log does. Creating an engine does no I/O; the first connection does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.url import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

SCHEMA_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"


def sqlite_engine(path: Path, *, synchronous: str = "FULL") -> Engine:
    """An engine on a SQLite file in WAL mode; transactions begin explicitly (see ``begin``)."""
    if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
        raise ValueError("synchronous must be OFF, NORMAL, FULL or EXTRA")
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "isolation_level": None, "timeout": 30},
    )
    pragma = synchronous.upper()

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={pragma}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # 64 MB of page cache per connection (SQLite's default is 2 MB): the search keys' indexes
        # at a million records are hundreds of MB, and a query that re-reads the same upper index
        # pages from the OS on every seek is several times slower. Pages are only held once read.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    return engine


def postgres_url(url: str | URL) -> URL:
    """The hub's ``postgresql[+driver]://`` URL, set to use psycopg 3."""
    return make_url(url).set(drivername="postgresql+psycopg")


def postgres_engine(url: str | URL, *, schema: str | None = None, pool_size: int = 4) -> Engine:
    """An engine on PostgreSQL; with ``schema``, every connection's search path is that schema."""
    connect_args: dict[str, Any] = {}
    if schema is not None:
        if not re.match(SCHEMA_PATTERN, schema):
            raise ValueError(f"schema {schema!r} must be a plain identifier")
        connect_args["options"] = f"-c search_path={schema}"
    return create_engine(
        postgres_url(url), pool_size=pool_size, pool_pre_ping=True, connect_args=connect_args
    )


def engine_for(url: str, *, schema: str | None = None) -> Engine:
    """The engine for a hub store URL: ``sqlite:///FILE`` or ``postgresql[+driver]://...``."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("the store needs a SQLite file, not an in-memory database")
        return sqlite_engine(Path(parsed.database))
    if backend == "postgresql":
        return postgres_engine(parsed, schema=schema)
    raise ValueError(f"no store for {backend!r} URLs; use sqlite:///FILE or postgresql://...")
