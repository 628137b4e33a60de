"""The broker contract: what every bus engine promises, and nothing about how.

Two engines implement it (``polestar.bus.sqlite`` for the embedded profile,
``polestar.bus.jetstream`` for the cluster profile) and one contract test
suite (``tests/integration/bus/``) runs against both.

The guarantees:

* ``publish`` returns only after the message is durable. A repeat of an
  idempotency key inside the dedupe window is acknowledged (``duplicate=True``)
  and not stored twice.
* A consumer *group* is durable and its members compete: each message goes to
  one member of each group. Every delivery must be settled: ``ack`` (done),
  ``nack`` (failed; redeliver after exponential backoff with jitter),
  ``in_progress`` (still working; extend the ack deadline) or ``reject``
  (poison; dead-letter now). A delivery not settled within ``ack_wait`` (the
  consumer crashed) is delivered again.
* After ``max_attempts`` deliveries a message goes to the dead letters with the
  reason and the history of attempts; an operator can list, show, replay (back
  to the same group) or discard it.
* With ``ordered_by_key`` a group never has two messages of one partition key
  in flight at once, and sees them in publish order; different keys run in
  parallel.
* ``request`` sends an event and waits for one reply, or raises
  ``RequestTimeout`` / ``NoResponders`` cleanly.
* A group can be moved back to replay from a time or a sequence.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Part of the contract, defined apart; ``X as X`` is what re-exports a name under mypy's strict mode.
from polestar.bus.stats import BusStats as BusStats  # noqa: PLC0414
from polestar.bus.stats import GroupStats as GroupStats  # noqa: PLC0414
from polestar.model.envelope import Envelope

if TYPE_CHECKING:
    from polestar.bus.tailing import BusTail

SUBJECT_TOKEN = r"[A-Za-z0-9_-]+"
SUBJECT_PATTERN = re.compile(rf"^{SUBJECT_TOKEN}(?:\.{SUBJECT_TOKEN}){{0,15}}$")
"""A publish subject: 1-16 dot-separated tokens, no wildcards."""

FILTER_PATTERN = re.compile(rf"^(?:{SUBJECT_TOKEN}|\*)(?:\.(?:{SUBJECT_TOKEN}|\*))*(?:\.>)?$|^>$")
"""A subscription filter: NATS semantics, ``*`` is one token and a final ``>`` the rest."""

GROUP_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
"""Largest encoded envelope the bus accepts (the NATS default ``max_payload``)."""


def check_subject(subject: str) -> str:
    """Validate a publish subject, raising ``ValueError`` that says what is wrong."""
    if not SUBJECT_PATTERN.match(subject):
        raise ValueError(
            f"invalid subject {subject!r}: use 1-16 dot-separated tokens of letters, digits, "
            "'_' or '-', with no wildcards or spaces"
        )
    return subject


def check_filter(pattern: str) -> str:
    """Validate a subscription filter such as ``custody.>`` or ``incident.*.assigned``."""
    if not FILTER_PATTERN.match(pattern):
        raise ValueError(
            f"invalid subject filter {pattern!r}: tokens of letters, digits, '_' or '-', "
            "'*' for one token, '>' only at the end"
        )
    return pattern


def subject_matches(pattern: str, subject: str) -> bool:
    """True when ``subject`` matches the NATS-style filter ``pattern``."""
    pat = pattern.split(".")
    sub = subject.split(".")
    for i, token in enumerate(pat):
        if token == ">":
            return len(sub) > i
        if i >= len(sub) or (token != "*" and token != sub[i]):
            return False
    return len(pat) == len(sub)


class BackoffPolicy(BaseModel):
    """Delays between redeliveries: exponential, capped, with jitter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    initial: float = Field(default=1.0, gt=0, description="Seconds before the second attempt.")
    multiplier: float = Field(default=2.0, ge=1.0, description="Growth per attempt.")
    maximum: float = Field(default=300.0, gt=0, description="Cap on any one delay, seconds.")
    jitter: float = Field(
        default=0.2, ge=0, le=1, description="Each delay varies by up to this fraction either way."
    )

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed delivery number ``attempt`` (1-based)."""
        base = min(self.maximum, self.initial * self.multiplier ** max(0, attempt - 1))
        spread = base * self.jitter
        r = (rng or random).uniform(-spread, spread)
        return max(0.0, base + r)


class DeliverPolicy(StrEnum):
    """Where a new consumer group starts reading."""

    ALL = "all"
    NEW = "new"


class ConsumerSpec(BaseModel):
    """A durable consumer group and how its deliveries behave."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = Field(description="Durable group name; members of one group compete.")
    subjects: tuple[str, ...] = Field(
        default=(">",), min_length=1, description="Subject filters, NATS-style wildcards."
    )
    ack_wait: float = Field(
        default=30.0, gt=0, description="Seconds a delivery may stay unsettled before redelivery."
    )
    max_attempts: int = Field(
        default=5, ge=1, le=1000, description="Deliveries before the message is dead-lettered."
    )
    backoff: BackoffPolicy = Field(default_factory=BackoffPolicy)
    ordered_by_key: bool = Field(
        default=False, description="Deliver messages with the same partition key one at a time."
    )
    deliver: DeliverPolicy = Field(
        default=DeliverPolicy.ALL, description="Where a new group starts: all retained, or new."
    )

    @field_validator("group")
    @classmethod
    def _group_name(cls, value: str) -> str:
        if not GROUP_PATTERN.match(value):
            raise ValueError(f"invalid group {value!r}: 1-64 letters, digits, '_' or '-'")
        return value

    @field_validator("subjects")
    @classmethod
    def _filters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_filter(v) for v in value)


class RetentionPolicy(BaseModel):
    """How long and how much the bus keeps; the oldest messages go first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_age: float | None = Field(
        default=7 * 24 * 3600.0, gt=0, description="Seconds a message is kept (None: forever)."
    )
    max_messages: int | None = Field(default=None, gt=0, description="Most messages kept (None: no limit).")
    dedupe_window: float = Field(
        default=120.0, gt=0, description="Seconds a repeated idempotency key is recognised."
    )
    dead_letter_max_age: float = Field(
        default=14 * 24 * 3600.0, gt=0, description="Seconds dead letters are kept for operators."
    )
    max_message_bytes: int = Field(default=DEFAULT_MAX_MESSAGE_BYTES, gt=0, le=64 * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class PublishAck:
    """The bus's receipt: the stream position, and whether this was a repeat."""

    sequence: int
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class BusMessage:
    """A message as stored on the bus."""

    sequence: int
    subject: str
    envelope: Envelope
    published_at: datetime
    key: str | None = None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    """One failed delivery: when, and why."""

    attempt: int
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A message that exhausted its attempts or was rejected, kept for an operator."""

    id: str
    group: str
    message: BusMessage
    reason: str
    attempts: tuple[AttemptRecord, ...]
    dead_at: datetime


@runtime_checkable
class Delivery(Protocol):
    """One delivery of a message to one group member. Settle it exactly once."""

    @property
    def message(self) -> BusMessage:
        """The message delivered."""
        ...

    @property
    def attempt(self) -> int:
        """1 for the first delivery, 2 for the first redelivery, and so on."""
        ...

    async def ack(self) -> None:
        """Done: the group will not see this message again."""
        ...

    async def nack(self, reason: str, *, delay: float | None = None) -> None:
        """Failed: redeliver after ``delay`` or the group's backoff; dead-letter when exhausted."""
        ...

    async def in_progress(self) -> None:
        """Still working: restart the ack deadline."""
        ...

    async def reject(self, reason: str) -> None:
        """Poison: dead-letter now without further attempts."""
        ...


class Consumer(Protocol):
    """One member of a durable consumer group."""

    @property
    def spec(self) -> ConsumerSpec:
        """The group's configuration."""
        ...

    async def fetch(self, max_messages: int = 1, timeout: float = 1.0) -> list[Delivery]:
        """Up to ``max_messages`` deliveries, waiting at most ``timeout`` seconds for the first."""
        ...

    async def close(self) -> None:
        """Leave the group; unsettled deliveries will be redelivered to others."""
        ...


@runtime_checkable
class BatchSettlement(Protocol):
    """Optional on an engine (both have it): settle a batch of its deliveries in one step.

    Use ``polestar.bus.worker.ack_all`` and ``forward``, which fall back to one
    call per delivery on an engine without it.
    """

    async def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """``ack`` every delivery, as ``Delivery.ack`` on each but in one write where the engine can."""
        ...

    async def forward(
        self, items: Sequence[tuple[Envelope, str | None]], deliveries: Sequence[Delivery]
    ) -> list[PublishAck]:
        """Publish ``(envelope, subject)`` pairs and ``ack`` ``deliveries``, the publishes first.

        The embedded engine does both in one transaction; elsewhere a crash between
        the two redelivers the inputs (at least once, as with separate calls).
        """
        ...


RequestHandler = Callable[[Envelope], Awaitable[Envelope]]
"""Answers a request event with a reply event."""


class Responder(Protocol):
    """A registered request handler; close it to stop answering."""

    async def close(self) -> None:
        """Stop answering requests."""
        ...


class BusEngine(Protocol):
    """A broker engine. Constructors do no I/O: call ``start`` first, ``close`` last."""

    name: str

    async def start(self) -> None:
        """Open connections and create what must exist (tables, streams)."""
        ...

    async def close(self) -> None:
        """Flush, release and stop; later calls raise ``BusClosed``."""
        ...

    async def publish(
        self,
        envelope: Envelope,
        *,
        subject: str | None = None,
        idempotency_key: str | None = None,
    ) -> PublishAck:
        """Store ``envelope`` durably on ``subject`` (default: its type).

        The idempotency key defaults to the envelope id; the partition key is
        the envelope's ``partitionkey``. Raises ``PublishRefused`` (nothing
        stored) for an invalid subject or an envelope over the size limit.
        """
        ...

    async def publish_many(self, items: Sequence[tuple[Envelope, str | None]]) -> list[PublishAck]:
        """Publish ``(envelope, subject)`` pairs; returns when all are durable."""
        ...

    async def subscribe(self, spec: ConsumerSpec) -> Consumer:
        """Join (creating if needed) the durable group described by ``spec``."""
        ...

    async def request(
        self, envelope: Envelope, *, subject: str | None = None, timeout: float = 5.0
    ) -> Envelope:
        """Send a request and wait for its reply; ``RequestTimeout`` / ``NoResponders``."""
        ...

    async def serve(self, subject: str, handler: RequestHandler) -> Responder:
        """Answer requests on ``subject`` (competing with other responders)."""
        ...

    async def replay(
        self, group: str, *, from_sequence: int | None = None, from_time: datetime | None = None
    ) -> None:
        """Move ``group`` back so it receives again from a sequence or a time."""
        ...

    def read(
        self,
        *,
        from_sequence: int | None = None,
        from_time: datetime | None = None,
        subjects: Sequence[str] = (">",),
        limit: int | None = None,
    ) -> AsyncIterator[BusMessage]:
        """Iterate stored messages without consuming them (operators, replays, audits)."""
        ...

    async def dead_letters(self, group: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """Dead letters, oldest first, optionally for one group."""
        ...

    async def dead_letter(self, dead_letter_id: str) -> DeadLetter:
        """One dead letter, or ``DeadLetterNotFound``."""
        ...

    async def replay_dead_letter(self, dead_letter_id: str) -> PublishAck:
        """Send a dead letter back to its group as a fresh delivery, and remove it."""
        ...

    async def discard_dead_letter(self, dead_letter_id: str) -> None:
        """Delete a dead letter an operator has decided not to replay."""
        ...

    async def stats(self) -> BusStats:
        """Counts for ``polestar bus stats``."""
        ...

    def tail(self, subjects: Sequence[str]) -> BusTail:
        """Follow ``subjects`` (filters) in sequence order without consuming (``polestar.bus.tailing``)."""
        ...
