"""Stopping background tasks for certain, on an interpreter that can lose a cancellation.

On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives in the
same loop iteration as the result it waits for (CPython gh-86296, fixed in
3.12). nats-py waits for every broker reply that way, so a loop that asks the
broker often (the dispatch tail reads the bus ten times a second) can lose the
one ``cancel()`` meant to stop it and run on, leaving whoever awaits it
waiting until something else gives up. Under load this held hubs at stop for
the harness's whole stop timeout, which then cancelled the rest of the stop
and leaked database connections.

So a background loop stops on a flag it checks (an ``asyncio.Event``), and
whoever stops it calls ``stop_task``, which cancels again until the task has
really ended::

    self._stopping.set()
    await stop_task(self._task)
"""

from __future__ import annotations

import asyncio
from typing import Any

RECANCEL_SECONDS = 0.5
"""How long to wait for a cancelled task before cancelling it again."""

__all__ = ["RECANCEL_SECONDS", "stop_task"]


async def stop_task(task: asyncio.Task[Any], *, recancel: float = RECANCEL_SECONDS) -> BaseException | None:
    """Cancel ``task`` and wait until it has ended, cancelling again each ``recancel`` seconds.

    Returns the exception the task ended with (None if it returned or was cancelled), so it
    is retrieved rather than reported as never retrieved; the caller decides whether to log it.
    Cancelling the caller stops the waiting, not the task's cancellation.
    """
    if recancel <= 0:
        raise ValueError(f"recancel must be positive, not {recancel!r}")
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=recancel)
    return None if task.cancelled() else task.exception()
