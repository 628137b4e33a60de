"""Creating (or bringing up to date) the streams and bucket the engine needs, from configuration."""

from __future__ import annotations

from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError, NotFoundError

from polestar.bus.config import JetStreamBusConfig
from polestar.bus.jetstream._names import Names

HEADER_ALLOWANCE = 16 * 1024
"""Bytes allowed for headers on top of the envelope (ids, dead-letter history)."""

_STREAM_NAME_IN_USE = 10058


def _window(config: JetStreamBusConfig, max_age: float | None) -> float:
    # The server refuses a duplicate window longer than the stream's max age.
    window = config.retention.dedupe_window
    return window if max_age is None else min(window, max_age)


def events_stream_config(config: JetStreamBusConfig, names: Names) -> api.StreamConfig:
    """The events stream: every message published on the bus, kept by the retention policy."""
    retention = config.retention
    return api.StreamConfig(
        name=names.events_stream,
        description="Polestar bus events",
        subjects=[names.events_subjects],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        num_replicas=config.replicas,
        max_age=retention.max_age,
        max_msgs=retention.max_messages or -1,
        max_msg_size=retention.max_message_bytes + HEADER_ALLOWANCE,
        duplicate_window=_window(config, retention.max_age),
        discard=api.DiscardPolicy.OLD,
        allow_direct=True,
    )


def dead_letter_stream_config(config: JetStreamBusConfig, names: Names) -> api.StreamConfig:
    """The dead-letter stream: one subject per group, kept for operators."""
    retention = config.retention
    return api.StreamConfig(
        name=names.dead_letter_stream,
        description="Polestar dead letters",
        subjects=[names.dead_letter_subjects],
        retention=api.RetentionPolicy.LIMITS,
        storage=api.StorageType.FILE,
        num_replicas=config.replicas,
        max_age=retention.dead_letter_max_age,
        max_msg_size=retention.max_message_bytes + HEADER_ALLOWANCE,
        duplicate_window=_window(config, retention.dead_letter_max_age),
        discard=api.DiscardPolicy.OLD,
        allow_direct=True,
    )


def history_bucket_config(config: JetStreamBusConfig, names: Names) -> api.KeyValueConfig:
    """The failure-history bucket; entries outlive no message they describe."""
    return api.KeyValueConfig(
        bucket=names.history_bucket,
        description="Polestar delivery failures per group and message",
        history=1,
        ttl=config.retention.max_age,
        storage=api.StorageType.FILE,
        replicas=config.replicas,
    )


async def ensure_stream(js: JetStreamContext, config: api.StreamConfig) -> None:
    """Create the stream, or update it when configuration changed since it was created."""
    try:
        await js.add_stream(config)
    except BadRequestError as exc:
        if exc.err_code != _STREAM_NAME_IN_USE:
            raise
        await js.update_stream(config)


async def ensure_all(js: JetStreamContext, config: JetStreamBusConfig, names: Names) -> None:
    """Everything ``start()`` must find on the server."""
    await ensure_stream(js, events_stream_config(config, names))
    await ensure_stream(js, dead_letter_stream_config(config, names))
    await js.create_key_value(history_bucket_config(config, names))


async def delete_all(js: JetStreamContext, names: Names) -> None:
    """Remove every stream and bucket of this installation (tests, decommissioning)."""
    for stream in (names.events_stream, names.dead_letter_stream, f"KV_{names.history_bucket}"):
        try:
            await js.delete_stream(stream)
        except NotFoundError:
            continue
