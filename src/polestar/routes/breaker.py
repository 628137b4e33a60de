"""A circuit breaker around a system's delivery: closed, open, half-open.

::

    closed ──(failure_threshold transient failures within window)──► open
    open ──(open_seconds pass)──► half-open: up to half_open_probes calls go through
    half-open ──(a probe succeeds)──► closed
    half-open ──(a probe fails)──► open again

Only transient failures (``DeliveryFailed``) count: a system that refuses a
message (``DeliveryRefused``) answered, so it is up. While the breaker is
open, ``call`` raises ``CircuitOpen`` with ``retry_after`` set to the time left.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

from polestar.errors import CircuitOpen, DeliveryFailed
from polestar.routes.config import CircuitBreakerConfig

T = TypeVar("T")

PROBE_BUSY_WAIT = 0.05
"""Seconds a call waits to retry while the half-open probes are all in use."""


class BreakerState(StrEnum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


StateListener = Callable[[BreakerState], None]


class CircuitBreaker:
    """Counts transient failures of one system's delivery and stops calling it when they pile up."""

    def __init__(
        self,
        config: CircuitBreakerConfig,
        *,
        name: str = "",
        clock: Callable[[], float] = time.monotonic,
        on_change: StateListener | None = None,
    ) -> None:
        self.config = config
        self.name = name
        self._clock = clock
        self._on_change = on_change
        self._failures: deque[float] = deque()
        self._opened_at: float | None = None
        self._probes = 0
        self._state = BreakerState.CLOSED

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker becomes half-open once its time is up)."""
        if self._state is BreakerState.OPEN and self.remaining_open() <= 0:
            self._set(BreakerState.HALF_OPEN)
        return self._state

    def remaining_open(self) -> float:
        """Seconds until an open breaker lets a probe through (0 when not open)."""
        if self._state is not BreakerState.OPEN or self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.config.open_seconds - self._clock())

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run ``operation`` if the breaker allows it, recording how it went."""
        probing = self._admit()
        try:
            result = await operation()
        except CircuitOpen:
            self._release(probing)
            raise
        except DeliveryFailed:
            self._release(probing)
            self._failed()
            raise
        except BaseException:
            self._release(probing)
            raise
        self._release(probing)
        self._succeeded()
        return result

    def _admit(self) -> bool:
        state = self.state
        if state is BreakerState.OPEN:
            raise CircuitOpen(
                f"circuit breaker {self.name} is open: not calling the system for now",
                retry_after=self.remaining_open(),
            )
        if state is BreakerState.HALF_OPEN:
            if self._probes >= self.config.half_open_probes:
                raise CircuitOpen(
                    f"circuit breaker {self.name} is half-open and its probes are in use",
                    retry_after=PROBE_BUSY_WAIT,
                )
            self._probes += 1
            return True
        return False

    def _release(self, probing: bool) -> None:
        if probing:
            self._probes -= 1

    def _failed(self) -> None:
        now = self._clock()
        if self._state is BreakerState.HALF_OPEN:
            self._open(now)
            return
        if self._state is BreakerState.OPEN:
            return
        self._failures.append(now)
        while self._failures and self._failures[0] < now - self.config.window:
            self._failures.popleft()
        if len(self._failures) >= self.config.failure_threshold:
            self._open(now)

    def _succeeded(self) -> None:
        if self._state is BreakerState.HALF_OPEN:
            self._failures.clear()
            self._set(BreakerState.CLOSED)

    def _open(self, now: float) -> None:
        self._opened_at = now
        self._failures.clear()
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state is not self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)
