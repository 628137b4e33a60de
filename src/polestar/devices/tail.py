"""Following the bus for dispatches: what the dispatch feed reads, one batch at a time.

The feed asks its tail for what follows a bus sequence. How that is read is the
engine's business, so the tail is a seam with one implementation per kind of
engine:

* ``PolledTail`` (the embedded SQLite bus, and any engine without its own):
  ``BusEngine.read`` is a query on the local file; an empty read waits
  ``poll_seconds`` before the next.
* ``JetStreamTail`` (``polestar.devices.jetstream_tail``): reading JetStream
  through ``BusEngine.read`` would create and delete a server-side consumer on
  every look. The tail instead holds one ordered consumer for as long as it
  runs and fetches from it with a wait, so an idle gateway costs one pending
  pull request, and a dispatch is handed over as soon as it is stored.

Resuming a device from its ``Last-Event-ID`` is not the tail's job: that is one
bounded ``BusEngine.read`` per reconnecting stream (``DispatchFeed.follow``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from polestar.bus.contract import BusEngine, BusMessage, check_filter

BATCH = 500
"""Most messages one fetch returns."""


@dataclass(frozen=True, slots=True)
class TailBatch:
    """What one fetch found, and the bus sequence it read up to (skipped messages included)."""

    messages: tuple[BusMessage, ...]
    position: int


class BusTail(Protocol):
    """Reads the dispatch subjects of one bus, in sequence order, from wherever it is asked."""

    bus: BusEngine
    """The engine it reads (a feed makes a new tail when the bus component has a new one)."""

    async def fetch(self, after: int) -> TailBatch:
        """Messages after bus sequence ``after``, waiting a while for some when there are none."""
        ...

    async def close(self) -> None:
        """Release what the tail holds on the server."""
        ...


class PolledTail:
    """Reads with ``BusEngine.read``, waiting ``poll_seconds`` after finding nothing."""

    def __init__(self, bus: BusEngine, subjects: Sequence[str], *, poll_seconds: float) -> None:
        self.bus = bus
        self.subjects = tuple(check_filter(s) for s in subjects)
        self.poll_seconds = poll_seconds

    async def fetch(self, after: int) -> TailBatch:
        """The next batch after ``after``; an empty one only after waiting ``poll_seconds``."""
        found = [m async for m in self.bus.read(from_sequence=after + 1, subjects=self.subjects, limit=BATCH)]
        if not found:
            await asyncio.sleep(self.poll_seconds)
            return TailBatch((), after)
        return TailBatch(tuple(found), found[-1].sequence)

    async def close(self) -> None:
        """Nothing is held."""


def tail_for(bus: BusEngine, subjects: Sequence[str], *, poll_seconds: float) -> BusTail:
    """The tail suited to ``bus``'s engine."""
    if bus.name == "jetstream":
        # Imported here: the JetStream tail needs the nats extra, which the embedded profile does not.
        from polestar.devices.jetstream_tail import JetStreamTail  # noqa: PLC0415

        return JetStreamTail(bus, subjects)
    return PolledTail(bus, subjects, poll_seconds=poll_seconds)
