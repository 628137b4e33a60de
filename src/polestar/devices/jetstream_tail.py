"""The dispatch feed's tail on JetStream: the engine's own tail (``BusEngine.tail``), held.

The JetStream engine's tail holds one ordered, unacknowledged consumer for as
long as it runs and fetches from it with a wait, recreating it only when it is
lost (see ``polestar.bus.jetstream._tail``). This adapter gives it the dispatch
feed's shape (``BusTail`` of ``polestar.devices.tail``): the batch size and the
wait of one fetch, and how often a quiet tail checks that the server still has
its consumer.

Needs the ``nats`` extra; ``polestar.devices.tail.tail_for`` imports it only for
a JetStream bus.
"""

from __future__ import annotations

from collections.abc import Sequence

from nats.js import JetStreamContext

from polestar.bus.contract import BusEngine
from polestar.bus.jetstream import JetStreamEngine
from polestar.devices.tail import BATCH, TailBatch

FETCH_WAIT = 2.0
"""Seconds one fetch waits for a message; a message that arrives meanwhile is returned at once."""
CHECK_EVERY = 30.0
"""Seconds of quiet between checks that the server still has the consumer."""


class JetStreamTail:
    """Reads the dispatch subjects through the JetStream engine's tail (one held consumer)."""

    def __init__(self, bus: BusEngine, subjects: Sequence[str], *, wait: float = FETCH_WAIT) -> None:
        if not isinstance(bus, JetStreamEngine):
            raise TypeError(f"a JetStream tail needs the JetStream engine, not {type(bus).__name__}")
        self.bus: BusEngine = bus
        self.wait = wait
        self._tail = bus.tail(subjects, check_every=CHECK_EVERY)
        self.patterns = self._tail.patterns

    @property
    def created(self) -> int:
        """Consumers created so far (one, unless one was lost)."""
        return self._tail.created

    def _context(self) -> JetStreamContext:
        # The engine's own connection, as its tail reads through it (tests inspect the server).
        return self._tail.context()

    async def fetch(self, after: int) -> TailBatch:
        """Messages after ``after``: at once if stored, else within ``wait`` seconds, else none."""
        batch = await self._tail.fetch(after, limit=BATCH, wait=self.wait)
        return TailBatch(batch.messages, batch.position)

    async def close(self) -> None:
        """Delete the consumer (best effort: the engine may be closed already)."""
        await self._tail.close()
