"""What an open engine shares with its consumers: the writer, the wake-up signal, the closed flag."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

from polestar.bus.contract import BusMessage
from polestar.bus.sqlite.rows import StoredMessage, to_datetime
from polestar.bus.sqlite.writer import GroupCommitWriter, Operation
from polestar.errors import BusClosed
from polestar.model.envelope import Envelope

T = TypeVar("T")


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
    """

    def __init__(self, size: int = 8192) -> None:
        self._size = size
        self._items: dict[int, Envelope] = {}

    def add(self, seq: int, envelope: Envelope) -> None:
        """Remember ``envelope`` as message ``seq``, forgetting the oldest when full."""
        items = self._items
        items[seq] = envelope
        if len(items) > self._size:
            del items[next(iter(items))]

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

    def check_open(self) -> None:
        """Raise ``BusClosed`` once the engine has been closed."""
        if self.closed:
            raise BusClosed("the SQLite bus engine is closed")

    async def run(self, operation: Operation[T], *, wakes: bool = False) -> T:
        """Run ``operation`` in the next group commit and return its result once committed."""
        self.check_open()
        return await self.writer.submit(operation, wakes=wakes)
