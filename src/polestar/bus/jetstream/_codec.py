"""What stored messages and dead letters look like on the NATS server, both ways."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from polestar.bus.contract import AttemptRecord, BusMessage, DeadLetter
from polestar.bus.jetstream._names import (
    HEADER_ATTEMPTS,
    HEADER_GROUP,
    HEADER_ORIGINAL_SEQUENCE,
    HEADER_ORIGINAL_SUBJECT,
    HEADER_PUBLISHED_AT,
    HEADER_REASON,
    Names,
)
from polestar.model.envelope import Envelope

MAX_REASON_CHARS = 1000
"""Reasons are clipped so that a dead letter's headers stay well inside the server's limits."""
MAX_ATTEMPTS_KEPT = 100
"""The most recent attempts kept in a dead letter's history (``max_attempts`` may be 1000)."""


def clip(reason: str) -> str:
    """A reason short enough to store."""
    return reason if len(reason) <= MAX_REASON_CHARS else reason[: MAX_REASON_CHARS - 1] + "…"


def bus_message(sequence: int, nats_subject: str, data: bytes, published_at: datetime) -> BusMessage:
    """A stored event as the bus contract shows it; raises ``ValueError`` for a foreign payload."""
    envelope = Envelope.from_json(data)
    return BusMessage(
        sequence=sequence,
        subject=Names.bus_subject(nats_subject),
        envelope=envelope,
        published_at=published_at,
        key=envelope.partitionkey,
    )


def encode_attempts(attempts: Sequence[AttemptRecord]) -> str:
    """Attempts as compact JSON (ASCII only, so it is safe in a header)."""
    kept = attempts[-MAX_ATTEMPTS_KEPT:]
    return json.dumps([[a.attempt, a.at.isoformat(), a.reason] for a in kept], separators=(",", ":"))


def decode_attempts(raw: str | bytes | None) -> tuple[AttemptRecord, ...]:
    """The inverse of ``encode_attempts``; absent means none."""
    if not raw:
        return ()
    return tuple(
        AttemptRecord(attempt=int(n), at=datetime.fromisoformat(at), reason=str(reason))
        for n, at, reason in json.loads(raw)
    )


def dead_letter_headers(
    group: str, reason: str, attempts: Sequence[AttemptRecord], message: BusMessage
) -> dict[str, str]:
    """Headers that carry everything a dead letter adds to the original event."""
    return {
        HEADER_GROUP: group,
        HEADER_REASON: json.dumps(clip(reason)),
        HEADER_ATTEMPTS: encode_attempts(attempts),
        HEADER_ORIGINAL_SEQUENCE: str(message.sequence),
        HEADER_ORIGINAL_SUBJECT: message.subject,
        HEADER_PUBLISHED_AT: message.published_at.isoformat(),
    }


def dead_letter(
    dead_letter_sequence: int, headers: Mapping[str, str], data: bytes, dead_at: datetime
) -> DeadLetter:
    """A dead letter read back from the dead-letter stream."""
    envelope = Envelope.from_json(data)
    message = BusMessage(
        sequence=int(headers[HEADER_ORIGINAL_SEQUENCE]),
        subject=headers[HEADER_ORIGINAL_SUBJECT],
        envelope=envelope,
        published_at=datetime.fromisoformat(headers[HEADER_PUBLISHED_AT]),
        key=envelope.partitionkey,
    )
    return DeadLetter(
        id=str(dead_letter_sequence),
        group=headers[HEADER_GROUP],
        message=message,
        reason=str(json.loads(headers[HEADER_REASON])),
        attempts=decode_attempts(headers.get(HEADER_ATTEMPTS)),
        dead_at=dead_at,
    )
