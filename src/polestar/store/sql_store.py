"""``Store`` on SQLAlchemy 2 Core: ``SqliteStore`` (embedded) and ``PostgresStore`` (cluster), ``open_store``.

Both are ``SqlStore`` (``operations.py``: every statement shared); they differ
in how they connect and how a write transaction starts. SQLite: ``BEGIN
IMMEDIATE`` takes the database's one write lock. PostgreSQL: READ COMMITTED,
with writers serialised per entity id on advisory locks (``sqlbase.lock_ids``).
``open_store`` picks one for a hub's store URL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine.url import make_url

from polestar.store.contract import ErasureCallback, MergeCallback
from polestar.store.engines import postgres_engine, sqlite_engine
from polestar.store.erasure import ErasureHooks
from polestar.store.intents import ApplyIntent, ErasureIntent, MergeIntent
from polestar.store.operations import SqlStore

__all__ = ["PostgresStore", "SqlStore", "SqliteStore", "open_store"]


class SqliteStore(SqlStore):
    """The embedded store: a SQLite file (WAL), shared with the audit log by default.

    Args:
        path: the database file; its folder is created at start.
        synchronous: SQLite's ``synchronous`` pragma (FULL survives power loss).
    """

    name = "sqlite"

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str = "FULL",
        hooks: ErasureHooks | None = None,
        source_priority: Mapping[str, int] | None = None,
        on_erasure: ErasureCallback | None = None,
        on_merge: MergeCallback | None = None,
        apply_intent: ApplyIntent | None = None,
        merge_intent: MergeIntent | None = None,
        erasure_intent: ErasureIntent | None = None,
    ) -> None:
        self.path = path
        super().__init__(
            sqlite_engine(path, synchronous=synchronous),
            hooks=hooks,
            source_priority=source_priority,
            on_erasure=on_erasure,
            on_merge=on_merge,
            apply_intent=apply_intent,
            merge_intent=merge_intent,
            erasure_intent=erasure_intent,
        )

    async def start(self) -> None:
        """Create the file's folder and bring the tables up to date."""
        await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
        await super().start()

    def _begin(self, conn: Connection, *, write: bool) -> None:
        # The driver is in autocommit mode, so this BEGIN is the transaction (SQLAlchemy's
        # pysqlite recipe); IMMEDIATE takes the write lock up front instead of on first write.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class PostgresStore(SqlStore):
    """The cluster store on PostgreSQL (psycopg 3), optionally in a schema of its own.

    Args:
        url: ``postgresql://…``, ``postgresql+psycopg://…`` or the hub's ``postgresql+asyncpg://…``.
        schema: the schema holding the tables (set as each connection's search path).
    """

    name = "postgres"

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        pool_size: int = 4,
        hooks: ErasureHooks | None = None,
        source_priority: Mapping[str, int] | None = None,
        on_erasure: ErasureCallback | None = None,
        on_merge: MergeCallback | None = None,
        apply_intent: ApplyIntent | None = None,
        merge_intent: MergeIntent | None = None,
        erasure_intent: ErasureIntent | None = None,
    ) -> None:
        self.schema = schema
        super().__init__(
            postgres_engine(url, schema=schema, pool_size=pool_size),
            hooks=hooks,
            source_priority=source_priority,
            on_erasure=on_erasure,
            on_merge=on_merge,
            apply_intent=apply_intent,
            merge_intent=merge_intent,
            erasure_intent=erasure_intent,
        )

    def _begin(self, conn: Connection, *, write: bool) -> None:
        if not write:
            # One snapshot for every statement of a read (a traversal reads several times).
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def open_store(
    url: str,
    *,
    schema: str | None = None,
    hooks: ErasureHooks | None = None,
    on_erasure: ErasureCallback | None = None,
    on_merge: MergeCallback | None = None,
    apply_intent: ApplyIntent | None = None,
    merge_intent: MergeIntent | None = None,
    erasure_intent: ErasureIntent | None = None,
) -> SqlStore:
    """The store for a hub's store URL (``HubConfig.store_url``): SQLite file or PostgreSQL."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    options: dict[str, Any] = {
        "hooks": hooks,
        "on_erasure": on_erasure,
        "on_merge": on_merge,
        "apply_intent": apply_intent,
        "merge_intent": merge_intent,
        "erasure_intent": erasure_intent,
    }
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("the store needs a SQLite file, not an in-memory database")
        return SqliteStore(Path(parsed.database), **options)
    if backend == "postgresql":
        return PostgresStore(url, schema=schema, **options)
    raise ValueError(f"no store for {backend!r} URLs; use sqlite:///FILE or postgresql://...")
