"""Embedded variant: the effect row and the processed-id record in one transaction of the bus file."""

from __future__ import annotations

from polestar.bus.outbox import SqliteOutbox, SqliteOutboxTransaction
from polestar.bus.sqlite.engine import SqliteEngine


class SqliteEffects:
    def __init__(self, engine: SqliteEngine) -> None:
        self.outbox = SqliteOutbox(engine)

    async def apply(self, message_id: str, index: int) -> None:
        def work(tx: SqliteOutboxTransaction) -> None:
            tx.execute("CREATE TABLE IF NOT EXISTS crash_effects (i INTEGER NOT NULL)")
            if tx.first_time("effects", message_id):
                tx.execute("INSERT INTO crash_effects (i) VALUES (?)", (index,))

        await self.outbox.run(work)
