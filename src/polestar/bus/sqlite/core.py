"""What an open engine shares with its consumers: the writer, the wake-up signal, the closed flag."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import TypeVar

from polestar.bus.contract import BusMessage, PublishAck
from polestar.bus.sqlite import settling
from polestar.bus.sqlite.coalescer import Coalescer
from polestar.bus.sqlite.rows import Outgoing, StoredMessage, to_datetime
from polestar.bus.sqlite.writer import GroupCommitWriter, Operation
from polestar.errors import BusClosed
from polestar.model.envelope import Envelope

T = TypeVar("T")

RECENT_SIZE = 65_536
"""Most recently published envelopes kept for local consumers."""

RECENT_BUDGET = 16 * 1024 * 1024
"""Most encoded bytes of recently published envelopes kept for local consumers (16 MiB)."""


class WakeSignal:
    """Tells waiting fetchers that a commit may have made work available in this process."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        """The event the next ``notify`` sets; take it *before* looking for work."""
        return self._event

    def notify(self) -> None:
        """Wake everyone waiting now; later waiters wait for the next notify."""
        self._event.set()
        self._event = asyncio.Event()

    @staticmethod
    async def wait(event: asyncio.Event, timeout: float) -> None:
        """Wait until ``event`` is set or ``timeout`` seconds pass, whichever is first."""
        if timeout <= 0 or event.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class RecentEnvelopes:
    """Envelopes this process published lately, by sequence, so consumers skip re-parsing them.

    Parsing is the largest cost a delivery has; most messages are consumed in the
    process that published them, soon after. Envelopes are frozen, so sharing one
    object is safe, and a sequence is never reused, so a hit is always right.

    Args:
        size: most envelopes kept.
        budget: most encoded bytes of the envelopes kept (their objects take about 2.5 times that).
    """

    def __init__(self, size: int = RECENT_SIZE, budget: int = RECENT_BUDGET) -> None:
        self._size = size
        self._budget = budget
        self._bytes = 0
        self._items: dict[int, Envelope] = {}
        # Oldest first, for forgetting in O(1): deleting from the front of a dict is not.
        self._order: deque[tuple[int, int]] = deque()

    def add(self, seq: int, envelope: Envelope, nbytes: int = 0) -> None:
        """Remember ``envelope`` (``nbytes`` long encoded) as message ``seq``, forgetting the oldest."""
        self.add_many([(seq, envelope, nbytes)])

    def add_many(self, entries: list[tuple[int, Envelope, int]]) -> None:
        """``add`` each ``(seq, envelope, nbytes)`` in order, forgetting the oldest once at the end."""
        items, order = self._items, self._order
        for seq, envelope, nbytes in entries:
            items[seq] = envelope
            order.append((seq, nbytes))
            self._bytes += nbytes
        while len(order) > self._size or self._bytes > self._budget:
            old, old_bytes = order.popleft()
            items.pop(old, None)
            self._bytes -= old_bytes

    def decode(self, stored: StoredMessage) -> BusMessage:
        """``stored`` as a ``BusMessage``, parsing its body only if it is not remembered."""
        envelope = self._items.get(stored.seq)
        if envelope is None:
            return stored.decode()
        return BusMessage(
            sequence=stored.seq,
            subject=stored.subject,
            envelope=envelope,
            published_at=to_datetime(stored.published_at),
            key=stored.key,
        )


class BusCore:
    """The running parts of one ``SqliteEngine``."""

    def __init__(self, writer: GroupCommitWriter, signal: WakeSignal, poll_interval: float) -> None:
        self.writer = writer
        self.signal = signal
        self.poll_interval = poll_interval
        self.recent = RecentEnvelopes()
        self.closed = False
        # Acknowledgements are most of the writes after publishes: fold them together too.
        # Only an ordered group's ack can release work (the next message of its key).
        # A lost acknowledgement is a redelivery, so acks need not be fsynced (``writer``).
        self.acks = Coalescer(self, settling.ack_many, wakes=False, durable=False)
        self.ordered_acks = Coalescer(self, settling.ack_many, wakes=True, durable=False)

    def remember(self, items: list[Outgoing], acks: list[PublishAck]) -> None:
        """Keep what was just stored for local consumers (after commit, before they run)."""
        self.recent.add_many(
            [
                (ack.sequence, item.envelope, len(item.body))
                for item, ack in zip(items, acks, strict=True)
                if not ack.duplicate and item.envelope is not None
            ]
        )

    def check_open(self) -> None:
        """Raise ``BusClosed`` once the engine has been closed."""
        if self.closed:
            raise BusClosed("the SQLite bus engine is closed")

    async def run(self, operation: Operation[T], *, wakes: bool = False, durable: bool = True) -> T:
        """Run ``operation`` in the next group commit and return its result once committed.

        ``durable=False``: only leases or acknowledgements, which may commit without an
        fsync (see ``writer``).
        """
        self.check_open()
        return await self.writer.submit(operation, wakes=wakes, durable=durable)
