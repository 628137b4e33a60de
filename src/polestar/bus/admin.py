"""Operating the bus: stats and dead letters, with every operator action handed to an audit seam.

``BusAdmin`` wraps a started ``BusEngine`` with the five things an operator
does to it: read the stats, list dead letters, view one, replay one, discard
one. Each of them, read or change, succeeded or not, produces one
``OperatorAction`` passed to an ``OperatorActionSink``: a single async
callable. The audit component implements that sink; until it does, the
default ``LoggingActionSink`` writes each action through structlog.

Replaying and discarding change what happens to a person's data, so both
require a stated reason; without one they raise ``ReasonRequired`` before
touching the bus (and the refusal is itself recorded).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

import structlog
from pydantic import BaseModel, ConfigDict, Field

from polestar.bus.contract import BusEngine, BusStats, DeadLetter, PublishAck
from polestar.errors import BusError, DeadLetterNotFound, PolestarError
from polestar.model.timeutil import UtcDateTime, utcnow

MAX_REASON_LENGTH = 1000
MAX_ACTOR_LENGTH = 256
MAX_LIST_LIMIT = 1000
OPERATOR_LOGGER = "polestar.operator"
"""The standard-library logger ``LoggingActionSink`` writes to by default."""


class ReasonRequired(PolestarError, ValueError):  # noqa: N818 - reads as the operator's answer
    """A replay or discard was asked for without a reason; nothing was changed."""


class OperatorActionKind(StrEnum):
    """What an operator did to the bus."""

    STATS_VIEWED = "bus.stats.viewed"
    DEAD_LETTERS_LISTED = "dead_letters.listed"
    DEAD_LETTER_VIEWED = "dead_letter.viewed"
    DEAD_LETTER_REPLAYED = "dead_letter.replayed"
    DEAD_LETTER_DISCARDED = "dead_letter.discarded"


class ActionOutcome(StrEnum):
    """How an operator action ended."""

    SUCCEEDED = "succeeded"
    NOT_FOUND = "not_found"
    """The dead letter named does not exist (or no longer does)."""
    REFUSED = "refused"
    """The request was invalid (no reason given); the bus was not touched."""
    FAILED = "failed"
    """The bus could not do it (unreachable, closed); ``detail`` says why."""


class OperatorAction(BaseModel):
    """One thing an operator did to the bus: who, what, to which dead letter, why, how it ended, when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: str = Field(description="Who acted: a user, e.g. user:pc1234.", examples=["user:pc1234"])
    action: OperatorActionKind = Field(description="What they did.")
    outcome: ActionOutcome = Field(description="How it ended.")
    at: UtcDateTime = Field(default_factory=utcnow, description="When, in UTC.")
    target: str | None = Field(
        default=None, description="The dead letter id, or for a listing the group (None: all groups)."
    )
    reason: str | None = Field(default=None, description="Why, as the operator stated it.")
    group: str | None = Field(default=None, description="The consumer group of the dead letter.")
    event_id: str | None = Field(default=None, description="The id of the event in the dead letter.")
    event_type: str | None = Field(default=None, description="The type of that event.")
    detail: str | None = Field(
        default=None, description="What happened: a count, a new sequence, or the error."
    )


class OperatorActionSink(Protocol):
    """Receives every operator action; the audit component's way in. Raising fails the call."""

    async def __call__(self, action: OperatorAction) -> None:
        """Record ``action``."""
        ...


class LoggingActionSink:
    """Writes each operator action as one structlog event (``operator_action``).

    Args:
        logger: a structlog logger to write through. By default a logger wrapping the
            standard-library logger ``polestar.operator``, built locally so that no
            global structlog configuration is read or changed.
    """

    def __init__(self, logger: Any = None) -> None:
        self._logger = logger if logger is not None else stdlib_operator_logger()

    async def __call__(self, action: OperatorAction) -> None:
        """Log ``action`` with each field as a key."""
        fields = action.model_dump(mode="json", exclude_none=True)
        level = "warning" if action.outcome in {ActionOutcome.FAILED, ActionOutcome.REFUSED} else "info"
        getattr(self._logger, level)("operator_action", **fields)


def stdlib_operator_logger() -> Any:
    """A structlog logger rendering ``key=value`` lines into the ``polestar.operator`` logger."""
    return structlog.wrap_logger(
        logging.getLogger(OPERATOR_LOGGER),
        wrapper_class=structlog.stdlib.BoundLogger,
        processors=[structlog.processors.KeyValueRenderer(key_order=["event", "action", "actor"])],
    )


class BusAdmin:
    """The operator's operations on a started bus engine; each one is recorded through ``on_action``.

    Args:
        engine: a started engine (this class neither starts nor closes it).
        on_action: where every ``OperatorAction`` goes; default ``LoggingActionSink()``.
    """

    def __init__(self, engine: BusEngine, *, on_action: OperatorActionSink | None = None) -> None:
        self.engine = engine
        self._on_action: OperatorActionSink = on_action if on_action is not None else LoggingActionSink()

    async def stats(self, *, actor: str) -> BusStats:
        """The bus's counts (``polestar bus stats``)."""
        record = _Recorder(self._on_action, _actor(actor), OperatorActionKind.STATS_VIEWED)
        async with record:
            return await self.engine.stats()

    async def dead_letters(
        self, *, actor: str, group: str | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        """Dead letters, oldest first, optionally of one group; at most ``limit`` (1-1000)."""
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}")
        record = _Recorder(self._on_action, _actor(actor), OperatorActionKind.DEAD_LETTERS_LISTED)
        record.target = group
        async with record:
            found = await self.engine.dead_letters(group, limit)
            record.detail = f"{len(found)} listed"
            return found

    async def dead_letter(self, dead_letter_id: str, *, actor: str) -> DeadLetter:
        """One dead letter with its message and history, or ``DeadLetterNotFound``."""
        record = _Recorder(self._on_action, _actor(actor), OperatorActionKind.DEAD_LETTER_VIEWED)
        record.target = dead_letter_id
        async with record:
            found = await self.engine.dead_letter(dead_letter_id)
            record.describe(found)
            return found

    async def replay(self, dead_letter_id: str, *, actor: str, reason: str | None) -> PublishAck:
        """Send a dead letter back to its group as a fresh delivery; ``reason`` is required."""
        record = _Recorder(self._on_action, _actor(actor), OperatorActionKind.DEAD_LETTER_REPLAYED)
        record.target = dead_letter_id
        async with record:
            record.reason = _reason(reason, "replay")
            record.describe(await self.engine.dead_letter(dead_letter_id))
            ack = await self.engine.replay_dead_letter(dead_letter_id)
            record.detail = f"redelivered as sequence {ack.sequence}"
            return ack

    async def discard(self, dead_letter_id: str, *, actor: str, reason: str | None) -> DeadLetter:
        """Delete a dead letter for good; ``reason`` is required. Returns what was discarded."""
        record = _Recorder(self._on_action, _actor(actor), OperatorActionKind.DEAD_LETTER_DISCARDED)
        record.target = dead_letter_id
        async with record:
            record.reason = _reason(reason, "discard")
            found = await self.engine.dead_letter(dead_letter_id)
            record.describe(found)
            await self.engine.discard_dead_letter(dead_letter_id)
            return found


class _Recorder:
    """Builds one ``OperatorAction`` while an operation runs and sends it when the operation ends."""

    def __init__(self, sink: OperatorActionSink, actor: str, action: OperatorActionKind) -> None:
        self.sink = sink
        self.actor = actor
        self.action = action
        self.at: datetime = utcnow()
        self.target: str | None = None
        self.reason: str | None = None
        self.group: str | None = None
        self.event_id: str | None = None
        self.event_type: str | None = None
        self.detail: str | None = None

    def describe(self, dead_letter: DeadLetter) -> None:
        self.group = dead_letter.group
        self.event_id = dead_letter.message.envelope.id
        self.event_type = dead_letter.message.envelope.type

    async def __aenter__(self) -> _Recorder:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, _: Any
    ) -> None:
        if exc is None:
            outcome = ActionOutcome.SUCCEEDED
        elif isinstance(exc, DeadLetterNotFound):
            outcome = ActionOutcome.NOT_FOUND
        elif isinstance(exc, ReasonRequired):
            outcome = ActionOutcome.REFUSED
        elif isinstance(exc, BusError | TimeoutError | OSError):
            outcome = ActionOutcome.FAILED
        elif isinstance(exc, asyncio.CancelledError):
            # Stopped while waiting for the bus (a timeout, a shutdown): whether a replay or
            # discard took effect is unknown, and the record must say it was attempted.
            outcome = ActionOutcome.FAILED
            exc = None
            self.detail = "interrupted before the bus answered; the outcome is unknown"
        else:
            return  # a bug, not an operator action's outcome: the caller's error handling reports it
        if exc is not None:
            self.detail = str(exc) or type(exc).__name__
        await self.sink(
            OperatorAction(
                actor=self.actor,
                action=self.action,
                outcome=outcome,
                at=self.at,
                target=self.target,
                reason=self.reason,
                group=self.group,
                event_id=self.event_id,
                event_type=self.event_type,
                detail=self.detail,
            )
        )


def _actor(actor: str) -> str:
    actor = actor.strip()
    if not actor or len(actor) > MAX_ACTOR_LENGTH:
        raise ValueError(f"an operator action needs an actor of 1-{MAX_ACTOR_LENGTH} characters")
    return actor


def _reason(reason: str | None, verb: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired(
            f"say why you {verb} this dead letter: a reason is required and is recorded with your name"
        )
    if len(text) > MAX_REASON_LENGTH:
        raise ReasonRequired(f"the reason is {len(text)} characters; keep it under {MAX_REASON_LENGTH}")
    return text
