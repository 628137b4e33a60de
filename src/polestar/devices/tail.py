"""Following the bus for dispatches: the feed reads through the bus contract's own tail.

``BusEngine.tail`` (``polestar.bus.tailing``) follows some subjects in sequence
order without consuming them, each engine its own way:

* the embedded SQLite engine reads its file, and when there is nothing new
  waits for its own next commit (a dispatch published in this process is handed
  over at once) or its ``poll_interval``, after which it looks for what other
  processes wrote;
* the JetStream engine holds one ordered, unacknowledged consumer for as long
  as the tail runs and fetches from it with a wait, so an idle gateway costs
  one pending pull request and creates no consumers; it is recreated only when
  lost (a missed delivery, or the server no longer has it).

The feed asks for up to ``BATCH`` messages at a time and lets one fetch wait
up to ``FETCH_WAIT`` seconds; a fetch returns as soon as something is stored.

Resuming a device from its ``Last-Event-ID`` is not the tail's job: that is one
bounded ``BusEngine.read`` per reconnecting stream (``DispatchFeed.follow``).
"""

from __future__ import annotations

from collections.abc import Sequence

from polestar.bus.contract import BusEngine
from polestar.bus.tailing import TAIL_BATCH, BusTail, TailBatch

__all__ = ["BATCH", "FETCH_WAIT", "BusTail", "TailBatch", "tail_for"]

BATCH = TAIL_BATCH
"""Most messages one fetch returns."""

FETCH_WAIT = 2.0
"""Seconds one fetch waits for a dispatch; one that is stored meanwhile is returned at once.

Between fetches the feed looks again at whether it is stopping and whether the
bus component has a new engine, so this bounds how long a stale tail lingers.
"""


def tail_for(bus: BusEngine, subjects: Sequence[str]) -> BusTail:
    """A tail of ``subjects`` on ``bus``: the engine's own (``BusEngine.tail``)."""
    return bus.tail(subjects)
