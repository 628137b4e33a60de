"""Checking and placing a message before it is sent: refuse early, partition by key."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from polestar.bus.config import JetStreamBusConfig
from polestar.bus.contract import check_subject
from polestar.bus.jetstream._names import HEADER_MSG_ID, Names
from polestar.errors import PublishRefused
from polestar.model.envelope import Envelope, is_validated, mark_validated


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message ready to send: where, what, and its idempotency header."""

    nats_subject: str
    data: bytes
    headers: dict[str, str]


def prepare(
    config: JetStreamBusConfig,
    names: Names,
    envelope: object,
    subject: str | None,
    idempotency_key: str | None,
) -> Outgoing:
    """The message to send, or ``PublishRefused`` saying why it cannot be (nothing sent)."""
    if not isinstance(envelope, Envelope):
        raise PublishRefused(f"only an Envelope can be published, not {type(envelope).__name__}")
    subject = envelope.type if subject is None else subject
    try:
        check_subject(subject)
    except ValueError as exc:
        raise PublishRefused(str(exc)) from None
    key = envelope.id if idempotency_key is None else idempotency_key
    if not key or any(c in key for c in "\r\n\0"):
        raise PublishRefused(f"invalid idempotency key {key!r}: empty or containing line breaks")
    data = envelope.to_json()
    if not is_validated(envelope):  # parsed, ``caused`` or published before: already checked
        try:
            # model_construct() skips validation; what no consumer could parse must not be stored.
            Envelope.from_json(data)
        except ValidationError as exc:
            raise PublishRefused(f"envelope does not validate: {exc.errors()[0]['msg']}") from None
        mark_validated(envelope)
    limit = config.retention.max_message_bytes
    if len(data) > limit:
        raise PublishRefused(f"envelope of {len(data)} bytes is over the bus limit of {limit} bytes")
    # Unkeyed events are spread by id: no order is promised for them, only balance.
    partition = names.partition_of(envelope.partitionkey or envelope.id)
    return Outgoing(names.event_subject(subject, partition), data, {HEADER_MSG_ID: key})
