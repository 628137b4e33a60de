"""What an open engine shares with its consumers: the writer, the wake-up signal, the closed flag."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

from polestar.bus.sqlite import settling
from polestar.bus.sqlite.coalescer import Coalescer
from polestar.bus.sqlite.recent import RecentMessages
from polestar.bus.sqlite.writer import GroupCommitWriter, Operation
from polestar.errors import BusClosed

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


class BusCore:
    """The running parts of one ``SqliteEngine``."""

    def __init__(
        self, writer: GroupCommitWriter, signal: WakeSignal, poll_interval: float, recent: RecentMessages
    ) -> None:
        self.writer = writer
        self.signal = signal
        self.poll_interval = poll_interval
        self.recent = recent  # the writer's: only operations touch it
        self.closed = False
        # Acknowledgements are most of the writes after publishes: fold them together too.
        # Only an ordered group's ack can release work (the next message of its key).
        # A lost acknowledgement is a redelivery, so acks need not be fsynced (``writer``).
        self.acks = Coalescer(self, settling.ack_many, wakes=False, durable=False)
        self.ordered_acks = Coalescer(self, settling.ack_many, wakes=True, durable=False)

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
