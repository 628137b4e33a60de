"""``BusEngine.tail`` on JetStream: one ordered consumer, held, fetched with a wait.

Reading JetStream through ``BusEngine.read`` creates and deletes a server-side
consumer on every look. A tail instead holds one for as long as it runs and
fetches from it with a wait, so an idle follower costs one pending pull
request, and a message is handed over as soon as it is stored.

The consumer is ephemeral and in memory on the server (acknowledging nothing,
so reading never disturbs a consumer group), filtered to the tail's subjects
and started at the position asked for. It is created once and then only again
when it is lost:

* a gap in its consumer sequence (a fetch answered after its caller stopped
  waiting): it is recreated from the last message taken, so nothing is skipped;
* the server no longer knows it (restarted, or the follower was away past
  ``IDLE_EXPIRY``), found by a ``consumer_info`` every ``check_every`` seconds
  of quiet;
* the caller asks from another position than the one reached.

Messages are decoded as the engine's own ``read`` decodes them.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext, api

from polestar.bus.contract import BusMessage, check_filter, subject_matches
from polestar.bus.jetstream import _codec
from polestar.bus.jetstream._errors import translated
from polestar.bus.jetstream._names import HEADER_REPLAY_GROUP, Names
from polestar.bus.tailing import TAIL_BATCH, TAIL_WAIT, TailBatch
from polestar.errors import BusError

log = logging.getLogger(__name__)

IDLE_EXPIRY = 60.0
"""Seconds the server keeps the consumer once nobody pulls from it (a follower that went away)."""
CHECK_EVERY = 30.0
"""Seconds of quiet between checks that the server still has the consumer."""
DESCRIPTION = "polestar bus tail"
"""Marks the consumer on the server; not ``polestar group ...``, so no tool takes it for a group."""


class JetStreamTail:
    """Reads some subjects through one held ordered consumer.

    Args:
        context: returns the engine's JetStream context (raises once the engine is closed).
        names: the engine's stream and subject names.
        subjects: the filters to follow.
        check_every: seconds of quiet between checks that the server still has the consumer.
    """

    def __init__(
        self,
        context: Callable[[], JetStreamContext],
        names: Names,
        subjects: Sequence[str],
        *,
        check_every: float = CHECK_EVERY,
    ) -> None:
        self._context = context
        self._names = names
        self.patterns = tuple(check_filter(s) for s in subjects)
        self.check_every = check_every
        self.created = 0
        """Consumers created so far (one, unless one was lost)."""
        self._sub: JetStreamContext.PullSubscription | None = None
        self._name: str | None = None
        self._position = -1
        self._delivered = 0
        self._checked = time.monotonic()

    def context(self) -> JetStreamContext:
        """The JetStream context the tail reads through (the engine's own connection)."""
        return self._context()

    async def fetch(self, after: int, *, limit: int = TAIL_BATCH, wait: float = TAIL_WAIT) -> TailBatch:
        """Messages after ``after``: at once if stored, else within ``wait`` seconds, else none."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if self._sub is None or after != self._position:
            await self._open(after)
        assert self._sub is not None
        try:
            with translated("follow the bus"):
                try:
                    fetched = await self._sub.fetch(limit, timeout=max(wait, 0.001))
                except TimeoutError:  # nats-py's own timeout, or asyncio's when its deadline ran out
                    await self._check_alive()
                    return TailBatch((), self._position)
        except BusError:
            await self._drop()  # the next fetch starts clean from the position reached
            raise
        self._checked = time.monotonic()
        messages: list[BusMessage] = []
        for msg in fetched:
            meta = msg.metadata
            if meta.sequence.consumer != self._delivered + 1:
                # Delivered but never received: start again after the last message taken.
                log.info("bus tail missed a delivery; recreating its consumer at %d", self._position)
                await self._drop()
                break
            self._delivered = meta.sequence.consumer
            self._position = meta.sequence.stream
            message = self._decoded(msg.subject, msg.data, msg.headers, meta.timestamp)
            if message is not None:
                messages.append(message)
        return TailBatch(tuple(messages), self._position)

    def _decoded(
        self, subject: str, data: bytes, headers: dict[str, str] | None, stored_at: datetime
    ) -> BusMessage | None:
        if headers and HEADER_REPLAY_GROUP in headers:
            return None  # a dead letter sent back to its group, not a new event
        try:
            message = _codec.bus_message(self._position, subject, data, stored_at)
        except ValueError:
            return None
        if len(self.patterns) > 1 and not any(subject_matches(p, message.subject) for p in self.patterns):
            return None
        return message

    async def _open(self, after: int) -> None:
        await self._drop()
        js = self._context()
        names = self._names
        name = f"bus_tail_{uuid.uuid4().hex}"
        exact = len(self.patterns) == 1
        config = api.ConsumerConfig(
            name=name,
            description=DESCRIPTION,
            ack_policy=api.AckPolicy.NONE,
            deliver_policy=api.DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=max(1, after + 1),
            filter_subject=names.event_filter(self.patterns[0]) if exact else names.events_subjects,
            inactive_threshold=IDLE_EXPIRY,
            mem_storage=True,
            num_replicas=1,
        )
        with translated("follow the bus"):
            await js.add_consumer(names.events_stream, config)
            self._sub = await js.pull_subscribe_bind(consumer=name, stream=names.events_stream)
        self._name, self._position, self._delivered = name, after, 0
        self._checked = time.monotonic()
        self.created += 1

    async def _check_alive(self) -> None:
        if self._name is None or time.monotonic() - self._checked < self.check_every:
            return
        self._checked = time.monotonic()
        try:
            await self._context().consumer_info(self._names.events_stream, self._name)
        except nats.js.errors.NotFoundError:
            log.info("bus tail's consumer is gone from the server; recreating it")
            await self._drop()

    async def _drop(self) -> None:
        sub, name, self._sub, self._name = self._sub, self._name, None, None
        if sub is None:
            return
        # Best effort: the server forgets the consumer after IDLE_EXPIRY anyway.
        with contextlib.suppress(BusError, nats.errors.Error, TimeoutError, OSError):
            await sub.unsubscribe()
            if name is not None:
                await self._context().delete_consumer(self._names.events_stream, name)

    async def close(self) -> None:
        """Delete the consumer (best effort: the engine may be closed already)."""
        await self._drop()
