"""Rows of the bus database as Python values, and the clock they are stamped with."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from polestar.bus.contract import AttemptRecord, BusMessage, DeadLetter
from polestar.model.envelope import Envelope

if TYPE_CHECKING:
    from polestar.bus.sqlite.recent import Recent

BLOCKED = 1e18
"""``ready_at`` of a message queued behind an earlier one of the same partition key."""


def now() -> float:
    """Seconds since the epoch: the one clock every process sharing the file reads."""
    return time.time()


@lru_cache(maxsize=256)
def to_datetime(ts: float) -> datetime:
    """A stored timestamp as an aware UTC datetime (cached: a batch of messages shares one)."""
    return datetime.fromtimestamp(ts, UTC)


def to_timestamp(value: datetime) -> float:
    """An aware datetime as stored; naive times are refused, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time has no UTC offset; pass an aware datetime")
    return value.timestamp()


# Rows are NamedTuples rather than frozen dataclasses: as immutable, and several
# times cheaper to build, which counts at one or two per message.


class Outgoing(NamedTuple):
    """A message checked and encoded, ready to insert."""

    subject: str
    key: str | None
    body: bytes
    idempotency_key: str
    envelope: Envelope | None = None
    """The object ``body`` encodes, for consumers in this process to share instead of parsing."""


class StoredMessage(NamedTuple):
    """A message row, not yet decoded."""

    seq: int
    subject: str
    key: str | None
    body: bytes
    published_at: float

    def decode(self) -> BusMessage:
        """The message with its envelope parsed (pydantic ``ValidationError`` if corrupt)."""
        return BusMessage(
            sequence=self.seq,
            subject=self.subject,
            envelope=Envelope.from_json(self.body),
            published_at=to_datetime(self.published_at),
            key=self.key,
        )


class Claimed(NamedTuple):
    """A delivery leased to one consumer: the message, its attempt number and lease token.

    ``message`` is what this process published, when it did so lately
    (``recent.Recent``), else the row; the consumer turns either into a
    ``BusMessage`` on the event loop.
    """

    message: Recent | StoredMessage
    attempt: int
    token: str


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """What a claim found and, when it found nothing, when (epoch seconds) something may become ready."""

    claimed: list[Claimed]
    next_ready: float | None


History = list[tuple[int, float, str]]
"""Failed attempts as stored: ``[attempt, at, reason]``."""


def load_history(raw: str) -> History:
    """Parse a stored attempt history."""
    return [(int(a), float(t), str(r)) for a, t, r in json.loads(raw)]


def dump_history(history: History) -> str:
    """Encode an attempt history for storage."""
    return json.dumps(history, separators=(",", ":"))


DEAD_LETTER_COLUMNS = "id, grp, seq, subject, pkey, body, published_at, reason, history, dead_at"


def decode_dead_letter(
    row: tuple[str, str, int, str, str | None, bytes, float, str, str, float],
) -> DeadLetter:
    """A ``dead_letters`` row (columns as ``DEAD_LETTER_COLUMNS``) as the contract's value."""
    dl_id, group, seq, subject, key, body, published_at, reason, history, dead_at = row
    message = StoredMessage(seq, subject, key, body, published_at).decode()
    return DeadLetter(
        id=dl_id,
        group=group,
        message=message,
        reason=reason,
        attempts=tuple(AttemptRecord(a, to_datetime(t), r) for a, t, r in load_history(history)),
        dead_at=to_datetime(dead_at),
    )
