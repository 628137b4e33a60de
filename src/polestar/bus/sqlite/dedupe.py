"""Recognising a repeated idempotency key without an index on the key.

The record is on disk, in ``dedupe``, one row per stored message keyed by its
sequence: appending to it costs a write at the end of one b-tree, where an
index on random keys (envelope ids are UUIDs) would dirty a different page for
almost every publish. The lookup is in memory: each writer (the engine's
writer thread, an outbox connection) keeps the keys of the window in a dict
and, inside each write transaction, first reads the rows other writers added
since the last sequence it saw. Holding the write lock, it then sees every
committed key, so a key it does not know is new.

The dict only ever says "maybe": a hit is confirmed against its row (by
sequence, the primary key), so a key remembered from a transaction that was
rolled back, or pruned by another process since, is never taken for a repeat.
After a rollback the writer reads again from the last committed sequence, so
rows that took over rolled-back sequence numbers are not missed either.
"""

from __future__ import annotations

import sqlite3
from collections import deque

from polestar.bus.sqlite.rows import now

_FROM = "SELECT seq, key, at FROM dedupe WHERE seq >= ? ORDER BY seq"


class DedupeMemory:
    """The idempotency keys of the dedupe window, for one writing connection.

    Use it only while the connection holds the write lock (inside ``BEGIN
    IMMEDIATE``), and tell it how each transaction ended (``committed`` or
    ``rolled_back``).

    Args:
        window: seconds a key is recognised (the retention's ``dedupe_window``).
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self._seq_of: dict[str, int] = {}
        # Keys in the order they were stored, a batch at a time, for forgetting the oldest.
        self._batches: deque[tuple[float, list[str], list[int]]] = deque()
        self._seen = 0  # highest dedupe sequence read or written
        self._seen_key: str | None = None
        self._committed = 0  # ``_seen`` as of the last commit
        self._committed_key: str | None = None

    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Learn the keys other writers stored since this one last looked (write lock held)."""
        # One query both checks the last row this memory saw and reads what came after it.
        rows = conn.execute(_FROM, (self._seen,)).fetchall()
        if self._seen:
            if rows and rows[0][0] == self._seen and rows[0][1] == self._seen_key:
                del rows[0]
            else:
                self._forget_all()  # rows this memory counted on are gone: start again from the table
                rows = conn.execute(_FROM, (0,)).fetchall()
        if rows:
            self._learn(rows)
        self._expire(now() - self.window)

    def find(self, conn: sqlite3.Connection, keys: list[str], since: float) -> dict[str, int]:
        """The sequence of each of ``keys`` stored at or after ``since``; call ``catch_up`` first."""
        found: dict[str, int] = {}
        seq_of = self._seq_of
        for key in keys:
            seq = seq_of.get(key)
            if seq is None or key in found:
                continue
            row = conn.execute("SELECT at FROM dedupe WHERE seq = ? AND key = ?", (seq, key)).fetchone()
            if row is not None and row[0] >= since:
                found[key] = seq
            elif row is None:
                del seq_of[key]  # rolled back, or pruned by another process
        return found

    def stored(self, keys: list[str], first: int, at: float) -> None:
        """Record that ``keys`` were just stored as sequences ``first``, ``first + 1``, ..."""
        seqs = list(range(first, first + len(keys)))
        self._seq_of.update(zip(keys, seqs, strict=True))
        self._batches.append((at, keys, seqs))
        self._seen = seqs[-1]
        self._seen_key = keys[-1]

    def committed(self) -> None:
        """The transaction committed: what was stored in it is now everyone's."""
        self._committed, self._committed_key = self._seen, self._seen_key

    def rolled_back(self) -> None:
        """The transaction rolled back: its sequences may be handed out again, so read them again."""
        self._seen, self._seen_key = self._committed, self._committed_key

    def __len__(self) -> int:
        return len(self._seq_of)

    def _learn(self, rows: list[tuple[int, str, float]]) -> None:
        seq_of = self._seq_of
        batch_at = rows[0][2]
        keys: list[str] = []
        seqs: list[int] = []
        for seq, key, at in rows:
            if at != batch_at and keys:
                self._batches.append((batch_at, keys, seqs))
                batch_at, keys, seqs = at, [], []
            seq_of[key] = seq
            keys.append(key)
            seqs.append(seq)
        self._batches.append((batch_at, keys, seqs))
        self._seen, self._seen_key = rows[-1][0], rows[-1][1]

    def _expire(self, since: float) -> None:
        # Batches are in sequence order; stored times can step back a little (clocks of
        # two processes), which only keeps a key a little longer, confirmed by its row.
        batches, seq_of = self._batches, self._seq_of
        while batches and batches[0][0] < since:
            _, keys, seqs = batches.popleft()
            for key, seq in zip(keys, seqs, strict=True):
                if seq_of.get(key) == seq:
                    del seq_of[key]

    def _forget_all(self) -> None:
        self._seq_of.clear()
        self._batches.clear()
        self._seen = self._committed = 0
        self._seen_key = self._committed_key = None
