"""An ordered outbox that POSTs a simulator's events to a webhook, retrying until delivered.

Events leave in the order they were queued: a failing head blocks those
behind it (retrying with backoff) rather than letting a later one overtake it,
which is how a system keeps per-incident order over plain HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class OutboxEntry:
    """One event and how its delivery went."""

    body: dict[str, Any]
    key: str
    status: str = "pending"
    attempts: int = 0
    last_error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The entry for ``GET /_sim/events``."""
        return {
            "key": self.key,
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "event": self.body,
        }


@dataclass
class Outbox:
    """Queue of events to POST to ``url`` (kept, undelivered, while ``url`` is ``None``)."""

    url: str | None = None
    max_backoff: float = 5.0
    timeout: float = 5.0
    headers: dict[str, str] = field(default_factory=dict)
    entries: list[OutboxEntry] = field(default_factory=list)
    _queue: asyncio.Queue[OutboxEntry] | None = field(default=None, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _wake: asyncio.Event | None = field(default=None, repr=False)

    def put(self, body: dict[str, Any], key: str) -> None:
        """Queue ``body``; ``key`` becomes its ``Idempotency-Key`` header."""
        entry = OutboxEntry(body=body, key=key)
        self.entries.append(entry)
        if self._queue is None:
            self._queue, self._wake = asyncio.Queue(), asyncio.Event()
        self._queue.put_nowait(entry)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sim-outbox")

    def retarget(self, url: str | None) -> None:
        """Send to ``url`` from now on (pending events included)."""
        self.url = url
        if self._wake is not None:
            self._wake.set()

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until no queued event is pending (for tests and shutdown)."""
        async with asyncio.timeout(timeout):
            # Polled: delivery state changes in the sender task; an Event per entry buys nothing here.
            while any(e.status == "pending" for e in self.entries):  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    async def close(self) -> None:
        """Stop the sender; undelivered events stay listed as pending."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        assert self._queue is not None
        assert self._wake is not None
        async with httpx.AsyncClient(timeout=self.timeout, headers=self.headers) as client:
            while True:
                entry = await self._queue.get()
                backoff = 0.1
                while entry.status != "delivered":
                    if await self._attempt(client, entry):
                        break
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), backoff)
                    backoff = min(backoff * 2, self.max_backoff)

    async def _attempt(self, client: httpx.AsyncClient, entry: OutboxEntry) -> bool:
        if self.url is None:
            entry.last_error = "no webhook URL configured"
            return False
        entry.attempts += 1
        try:
            # Headers are read on every attempt so a retarget can change them (a new token).
            headers = {**self.headers, "Idempotency-Key": entry.key}
            response = await client.post(self.url, json=entry.body, headers=headers)
        except httpx.HTTPError as exc:
            entry.last_error = repr(exc)
            return False
        if response.is_success:
            entry.status, entry.last_error = "delivered", None
            return True
        entry.last_error = f"HTTP {response.status_code}"
        if 400 <= response.status_code < 500 and response.status_code not in {408, 429}:
            entry.status = "refused"
            return True  # the receiver will never take it; move on, it stays listed
        return False
