"""``throttle``: at most ``rate`` messages a second, with bursts of ``burst``.

A generic cell rate algorithm: each message reserves the next slot and waits
for it, so the order of arrival is kept and no lock is needed. A message
waiting here holds its bus lease (the runner's heartbeat keeps it), so the
backlog stays on the bus, not in memory, beyond the route's concurrency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from polestar.model.envelope import Envelope
from polestar.routes.config import ThrottleStep


class Throttle:
    """Delays each envelope until the rate allows it through."""

    def __init__(self, config: ThrottleStep, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._interval = 1.0 / config.rate
        self._tolerance = (config.burst - 1) * self._interval
        self._clock = clock
        self._theoretical_arrival = 0.0

    def reserve(self) -> float:
        """Take the next slot; returns the seconds to wait for it."""
        now = self._clock()
        arrival = max(self._theoretical_arrival, now)
        allowed_at = max(now, arrival - self._tolerance)
        self._theoretical_arrival = arrival + self._interval
        return allowed_at - now

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """The envelope, once the rate allows it."""
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        return [envelope]
