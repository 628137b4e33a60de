"""Messages this process published lately, kept by sequence so claims need not read or parse them.

Parsing an envelope is the largest cost a delivery has, and reading its body
row by row the largest cost a claim has (the sqlite3 module gives up the GIL
for every row it steps to, and taking it back behind a busy event loop costs
the writer more than the read). Most messages are consumed in the process that
published them, soon after: a claim on the writer thread looks each leased
sequence up here and reads from the table only the rows it does not find.

The cache belongs to the writer thread: publishes ``stage`` what they stored
inside the transaction, and it is kept only when the transaction commits
(``committed``, a ``TransactionListener``); a rollback drops it, since its
sequences will be handed out again. Until then only claims later in the same
transaction, which see its rows too, find it. Messages are frozen, so sharing one
object between groups is safe, and a committed sequence is never reused, so a
hit is always right.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from polestar.bus.contract import BusMessage
from polestar.bus.sqlite.rows import Outgoing, StoredMessage, to_datetime

RECENT_SIZE = 65_536
"""Most recently published messages kept for local consumers."""

RECENT_BUDGET = 16 * 1024 * 1024
"""Most encoded bytes of recently published messages kept for local consumers (16 MiB)."""


class Recent(NamedTuple):
    """A message found in the cache: what was published, as sequence ``seq``, at ``published_at``."""

    seq: int
    item: Outgoing
    published_at: float

    def message(self) -> BusMessage:
        """The message as consumers receive it (built on the event loop, off the writer thread)."""
        item = self.item
        assert item.envelope is not None  # the cache never hands out an item without one
        return BusMessage(self.seq, item.subject, item.envelope, to_datetime(self.published_at), item.key)


class _Batch(NamedTuple):
    first: int
    items: list[Outgoing]
    at: float
    nbytes: int


class RecentMessages:
    """The last messages published through this engine, by sequence (writer thread only).

    Kept a publish batch at a time, as the writer stored them (consecutive
    sequences): staging and forgetting cost one step per batch, not per message,
    and the writer builds nothing per message: the consumer turns a hit into a
    ``BusMessage`` on the event loop.

    Args:
        size: most messages kept.
        budget: most encoded bytes of the messages kept (the bodies are kept with their
            envelopes, whose objects take about 2.5 times as much again).
    """

    def __init__(self, size: int = RECENT_SIZE, budget: int = RECENT_BUDGET) -> None:
        self._size = size
        self._budget = budget
        self._count = 0
        self._bytes = 0
        # Oldest first; sequences only grow from one commit to the next, so ``_firsts`` is sorted.
        self._batches: list[_Batch] = []
        self._firsts: list[int] = []
        # Stored by the open transaction: a claim later in the same transaction sees its rows.
        self._staged: list[_Batch] = []

    def stage_published(self, first: int, items: list[Outgoing], published_at: float) -> None:
        """Keep ``items``, just stored as sequences ``first``, ``first + 1``, ..., once they commit."""
        if items:
            self._staged.append(_Batch(first, items, published_at, sum(len(item.body) for item in items)))

    def committed(self) -> None:
        """The transaction committed: what it staged is kept, the oldest forgotten."""
        if not self._staged:
            return
        for batch in self._staged:
            self._batches.append(batch)
            self._firsts.append(batch.first)
            self._count += len(batch.items)
            self._bytes += batch.nbytes
        self._staged = []
        drop = 0
        while self._count > self._size or self._bytes > self._budget:
            old = self._batches[drop]
            self._count -= len(old.items)
            self._bytes -= old.nbytes
            drop += 1
        if drop:
            del self._batches[:drop], self._firsts[:drop]

    def rolled_back(self) -> None:
        """The transaction rolled back: its sequences may be handed out again, so forget them."""
        self._staged = []

    def get(self, seq: int) -> Recent | None:
        """Message ``seq`` if it was published here lately (or earlier in this transaction), else None."""
        return self.lookup([seq])[0]

    def lookup(self, seqs: list[int]) -> list[Recent | None]:
        """``get`` for each of ``seqs`` (ascending, as a claim lists them), in one call."""
        batches, firsts = self._batches, self._firsts
        if self._staged:
            batches = [*batches, *self._staged]
            firsts = [*firsts, *(batch.first for batch in self._staged)]
        found: list[Recent | None] = []
        batch: _Batch | None = None
        end = 0
        for seq in seqs:
            if batch is None or not batch.first <= seq < end:
                index = bisect_right(firsts, seq) - 1
                batch = batches[index] if index >= 0 else None
                end = batch.first + len(batch.items) if batch is not None else 0
                if batch is None or seq >= end:
                    batch = None
                    found.append(None)
                    continue
            item = batch.items[seq - batch.first]
            found.append(None if item.envelope is None else Recent(seq, item, batch.at))
        return found

    def resolve(self, stored: StoredMessage) -> Recent | StoredMessage:
        """The kept message for ``stored``'s sequence, or ``stored`` itself to be decoded."""
        found = self.get(stored.seq)
        return stored if found is None else found

    def __len__(self) -> int:
        return self._count
