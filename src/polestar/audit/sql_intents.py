"""The statements of the durability seam, shared by SQLite and PostgreSQL (see ``intents.py``).

A mixin of ``_Transaction`` (``sql_store.py``): what the writer does under its lock
to append keyed entries exactly once, and what the drainer reads and marks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, select, update

from polestar.audit.tables import AuditTables

_CHUNK = 500


class IntentStatements:
    """Intent and entry-key statements over one connection in one transaction."""

    conn: Connection
    t: AuditTables

    def insert_rows(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows in ``table``'s column order (``_Transaction`` does it through the driver)."""
        raise NotImplementedError

    def appended(self, keys: Sequence[str]) -> dict[str, tuple[int, bytes]]:
        """``key -> (seq, leaf_hash)`` of the entries already appended under any of ``keys``."""
        k, e = self.t.entry_keys, self.t.entries
        found: dict[str, tuple[int, bytes]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _CHUNK):
            rows = self.conn.execute(
                select(k.c.intent_key, e.c.seq, e.c.leaf_hash)
                .join(e, e.c.seq == k.c.seq)
                .where(k.c.intent_key.in_(unique[start : start + _CHUNK]))
            )
            found.update({str(key): (int(seq), bytes(h)) for key, seq, h in rows})
        return found

    def settle_intents(self, appended: Sequence[tuple[str, int]], done: Sequence[str]) -> None:
        """Record the keys of entries just appended, and drop the intents of ``done`` keys."""
        # On the path of every keyed append, under the write lock: straight to the driver.
        self.insert_rows(self.t.entry_keys, list(appended))
        unique = list(dict.fromkeys(done))
        i = self.t.intents
        for start in range(0, len(unique), _CHUNK):
            self.conn.execute(delete(i).where(i.c.intent_key.in_(unique[start : start + _CHUNK])))

    def pending_intents(self, limit: int, created_before_us: int) -> list[tuple[str, str]]:
        """``(key, entry JSON)`` of intents not yet appended nor marked, oldest first."""
        i = self.t.intents
        rows = self.conn.execute(
            select(i.c.intent_key, i.c.entry)
            .where(and_(i.c.problem.is_(None), i.c.created_at_us < created_before_us))
            .order_by(i.c.created_at_us, i.c.intent_key)
            .limit(limit)
        )
        return [(str(key), str(entry)) for key, entry in rows]

    def mark_intent(self, key: str, problem: str) -> None:
        """Set aside an intent that cannot be appended, saying why (an operator fixes or removes it)."""
        i = self.t.intents
        self.conn.execute(update(i).where(i.c.intent_key == key).values(problem=problem[:1000]))
