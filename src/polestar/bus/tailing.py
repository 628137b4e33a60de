"""Following the bus without consuming it: the contract's ``BusEngine.tail``.

``BusEngine.read`` answers "what is stored from here on" once. A reader that
follows the stream for as long as it runs (the device gateway's dispatch feed)
asks that again and again, and waits when there is nothing new. Each engine
does that its own way: the embedded engine reads its file and sleeps until a
local commit (or its poll interval) says there may be more; the JetStream
engine holds one ordered, unacknowledged consumer for the tail, where a
``read`` would create and delete one on every look.

A tail consumes nothing and belongs to no consumer group; it hands out stored
messages in sequence order, as ``read`` does, and skips the copies of dead
letters that were sent back to their group (they are not new events).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from polestar.bus.contract import BusMessage

TAIL_BATCH = 500
"""Most messages one ``BusTail.fetch`` returns unless asked otherwise."""

TAIL_WAIT = 2.0
"""Seconds one ``BusTail.fetch`` waits for a message unless asked otherwise."""


@dataclass(frozen=True, slots=True)
class TailBatch:
    """What one fetch found, and the bus sequence it read up to (skipped messages included)."""

    messages: tuple[BusMessage, ...]
    position: int


class BusTail(Protocol):
    """Reads some subjects of one bus in sequence order, from wherever it is asked; close it."""

    async def fetch(self, after: int, *, limit: int = TAIL_BATCH, wait: float = TAIL_WAIT) -> TailBatch:
        """Up to ``limit`` messages after bus sequence ``after``.

        At once if any are stored; else waits up to ``wait`` seconds for one, and
        returns an empty batch if none came. ``position`` is how far the tail read
        (never less than ``after``): pass it as the next ``after``.
        """
        ...

    async def close(self) -> None:
        """Release what the tail holds (on JetStream, its consumer on the server)."""
        ...
