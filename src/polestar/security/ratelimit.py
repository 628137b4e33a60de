"""Per-client rate limits: one token bucket per identity (or per address before one is known)."""

from __future__ import annotations

import time
from collections import OrderedDict

from polestar.security.errors import RateLimited

MAX_TRACKED = 100_000
"""Buckets kept; the least recently seen client is forgotten first (it gets a full bucket back)."""


class RateLimiter:
    """Allows ``rate`` requests a second per key, with bursts of up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float | None = None) -> None:
        """Spend one request of ``key``'s allowance, or raise ``RateLimited`` with when to retry."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            raise RateLimited(
                f"too many requests from {key}: the limit is {self.rate:g} a second",
                retry_after=(1.0 - tokens) / self.rate,
            )
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
