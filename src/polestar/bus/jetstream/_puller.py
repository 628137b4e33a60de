"""Pull requests for one group member, over one inbox for all of its durable consumers.

A plain group has one durable; a group ordered by key has one per partition and
must wait on all of them at once. nats-py's ``PullSubscription.fetch`` waits on
one, so the engine speaks the pull protocol itself: a request on
``$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>`` with the reply subject
``<inbox>.<index>`` tells which durable a message or a status came from.

At most one request is open per durable, and it outlives the fetch that sent it
(``REQUEST_EXPIRES``), like a standing "consume" loop. Messages that arrive after a fetch
returned stay buffered and are handed out by the next fetch (as nats-py does);
``close`` gives buffered ones back at once with a NAK instead of leaving them to
``ack_wait``.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Sequence

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from polestar.bus.jetstream._names import API_PREFIX

_STATUS = "Status"
_HEARTBEAT = "100"
REQUEST_EXPIRES = 5.0
"""Seconds a pull request stays open on the server, at least."""
_GRACE = 0.05
"""Seconds past its expiry after which a request is presumed over even if no end-status was seen
(one is occasionally not seen; waiting long for it stalls the member, asking again costs little)."""


class PullInbox:
    """Sends pull requests to some durables of one stream and buffers what comes back."""

    def __init__(self, nc: NatsClient, stream: str, durables: Sequence[str], *, ack_wait: float) -> None:
        self._nc = nc
        self._durables = tuple(durables)
        self._index = {d: i for i, d in enumerate(self._durables)}
        self._next = tuple(f"{API_PREFIX}.CONSUMER.MSG.NEXT.{stream}.{d}" for d in self._durables)
        self._ack_wait = ack_wait
        self._inbox = ""
        self._sub: Subscription | None = None
        self._owed = [0] * len(self._durables)
        self._open_until = [0.0] * len(self._durables)
        self._ready: deque[tuple[float, Msg, Msg.Metadata]] = deque()
        self._wake = asyncio.Event()

    async def open(self) -> None:
        """Subscribe the inbox."""
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(f"{self._inbox}.*", cb=self._on_message)

    async def _on_message(self, msg: Msg) -> None:
        status = msg.headers.get(_STATUS) if msg.headers else None
        if status is None:
            # A delivery keeps its stream subject; its ack subject names the durable.
            meta = msg.metadata
            index = self._index[meta.consumer]
            self._ready.append((asyncio.get_running_loop().time(), msg, meta))
            self._owed[index] = max(0, self._owed[index] - 1)
            self._wake.set()
            return
        index = int(msg.subject.rsplit(".", 1)[1])  # a status comes on the request's own reply subject
        if status != _HEARTBEAT:
            # 404 no messages, 408 request expired, 409 consumer deleted or limits: this request is over.
            self._owed[index] = 0
        self._wake.set()

    def take(self, limit: int) -> list[tuple[Msg, Msg.Metadata]]:
        """Up to ``limit`` buffered messages, skipping any held so long the server resent them."""
        now = asyncio.get_running_loop().time()
        taken: list[tuple[Msg, Msg.Metadata]] = []
        while self._ready and len(taken) < limit:
            received, msg, meta = self._ready.popleft()
            if now - received < self._ack_wait:
                taken.append((msg, meta))
        return taken

    async def request(self, batch: int, expires: float) -> None:
        """Ask every durable with no open request for up to ``batch`` messages within ``expires``."""
        now = asyncio.get_running_loop().time()
        # Requests outlive the fetch that sent them: on JetStream 2.9 a redelivery that meets a
        # request at the instant it expires is sent again later with its count not raised, so
        # expiries are kept rare. Later fetches take what arrives meanwhile from the buffer.
        expires = max(expires, REQUEST_EXPIRES)
        for index, subject in enumerate(self._next):
            if self._owed[index] > 0 and now < self._open_until[index]:
                continue
            body = json.dumps({"batch": batch, "expires": int(expires * 1e9)}).encode()
            self._owed[index] = batch
            self._open_until[index] = now + expires + _GRACE
            await self._nc.publish(subject, body, reply=f"{self._inbox}.{index}")

    def rearm(self) -> None:
        """Forget earlier wake-ups: call before looking at the buffer, then ``wait``."""
        self._wake.clear()

    async def wait(self, timeout: float) -> None:
        """Until something arrived since ``rearm``, or ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except TimeoutError:
            return

    def reset(self) -> None:
        """Drop buffered messages and forget open requests (their consumer was recreated)."""
        self._ready.clear()
        self._owed = [0] * len(self._durables)

    async def close(self) -> None:
        """Stop receiving; give back what was buffered so other members get it now."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        while self._ready:
            _, msg, _ = self._ready.popleft()
            await msg.nak()
