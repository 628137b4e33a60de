"""Reading stored events without consuming them: an ephemeral consumer that acks nothing.

The consumer lives in memory on the server, acknowledges nothing and is deleted
when the iteration ends (and expires by itself if the reader vanishes), so
reading never disturbs a group's position.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import nats.errors
from nats.js import JetStreamContext, api

from polestar.bus.contract import BusMessage, check_filter, subject_matches
from polestar.bus.jetstream import _codec
from polestar.bus.jetstream._errors import translated
from polestar.bus.jetstream._names import HEADER_REPLAY_GROUP, Names

READ_BATCH = 256
_IDLE_EXPIRY = 60.0
_FETCH_TIMEOUT = 2.0


def start_at(config: api.ConsumerConfig, from_sequence: int | None, from_time: datetime | None) -> None:
    """Point a consumer at a sequence or a time (or the start of the stream)."""
    config.opt_start_seq = None
    config.opt_start_time = None
    if from_sequence is not None:
        config.deliver_policy = api.DeliverPolicy.BY_START_SEQUENCE
        config.opt_start_seq = max(1, from_sequence)
    elif from_time is not None:
        config.deliver_policy = api.DeliverPolicy.BY_START_TIME
        config.opt_start_time = from_time
    else:
        config.deliver_policy = api.DeliverPolicy.ALL


async def read(
    js: JetStreamContext,
    names: Names,
    *,
    from_sequence: int | None,
    from_time: datetime | None,
    subjects: Sequence[str],
    limit: int | None,
) -> AsyncIterator[BusMessage]:
    """Stored events in sequence order from a position, matching any of ``subjects``."""
    patterns = tuple(check_filter(s) for s in subjects)
    if limit is not None and limit <= 0:
        return
    name = f"read_{uuid.uuid4().hex}"
    exact = len(patterns) == 1
    config = api.ConsumerConfig(
        name=name,
        ack_policy=api.AckPolicy.NONE,
        filter_subject=names.event_filter(patterns[0]) if exact else names.events_subjects,
        inactive_threshold=_IDLE_EXPIRY,
        mem_storage=True,
        num_replicas=1,
    )
    start_at(config, from_sequence, from_time)
    with translated("read"):
        info = await js.add_consumer(names.events_stream, config)
        sub = await js.pull_subscribe_bind(consumer=name, stream=names.events_stream)
    try:
        yielded = 0
        remaining = info.num_pending or 0
        while remaining > 0:
            with translated("read"):
                try:
                    batch = await sub.fetch(READ_BATCH, timeout=_FETCH_TIMEOUT)
                except nats.errors.TimeoutError:
                    return  # the rest expired under retention while we read
            for msg in batch:
                meta = msg.metadata
                remaining = meta.num_pending
                if msg.headers and HEADER_REPLAY_GROUP in msg.headers:
                    continue  # a dead letter sent back to its group, not a new event
                try:
                    message = _codec.bus_message(meta.sequence.stream, msg.subject, msg.data, meta.timestamp)
                except ValueError:
                    continue
                if not exact and not any(subject_matches(p, message.subject) for p in patterns):
                    continue
                yield message
                yielded += 1
                if limit is not None and yielded >= limit:
                    return
    finally:
        # Best effort: the server drops the consumer after _IDLE_EXPIRY anyway.
        with contextlib.suppress(nats.errors.Error):
            await sub.unsubscribe()
            await js.delete_consumer(names.events_stream, name)
