"""The crash test consumer's side effects, applied through the library's idempotent consumers.

Embedded: the effect row and the processed-id record share one SQLite
transaction. Cluster: they share one PostgreSQL transaction.
"""

from __future__ import annotations

from typing import Any, Protocol

import psycopg

from polestar.bus.pg_outbox import OutboxTables, ProcessedMessages


class Effects(Protocol):
    async def apply(self, message_id: str, index: int) -> None: ...


class PostgresEffects:
    def __init__(self, conn: psycopg.AsyncConnection[tuple[object, ...]], schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.processed = ProcessedMessages(OutboxTables.define(schema=schema))

    async def apply(self, message_id: str, index: int) -> None:
        async with self.conn.transaction():
            if await self.processed.first_time(self.conn, "effects", message_id):
                await self.conn.execute(f'INSERT INTO "{self.schema}".effects (i) VALUES (%s)', (index,))


async def open_effects(cfg: dict[str, Any], engine: Any) -> Effects:
    if cfg["engine"] == "jetstream":
        conn = await psycopg.AsyncConnection.connect(cfg["postgres_url"], autocommit=True)
        return PostgresEffects(conn, cfg["schema"])
    from _sqlite_effects import SqliteEffects  # noqa: PLC0415 - embedded variant

    return SqliteEffects(engine)
