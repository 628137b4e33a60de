"""The bus's operator views as JSON: what ``/bus/...`` returns and ``polestar bus ... --json`` prints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from polestar.bus.admin import MAX_REASON_LENGTH
from polestar.bus.contract import BusStats, DeadLetter, GroupStats, PublishAck
from polestar.model.envelope import Envelope


class GroupStatsView(BaseModel):
    """One consumer group's backlog."""

    model_config = ConfigDict(extra="forbid")

    group: str = Field(description="The consumer group.", examples=["custody-to-warehouse"])
    pending: int = Field(description="Messages waiting for their first delivery to this group.")
    in_flight: int = Field(description="Delivered and not yet settled (being worked on now).")
    redelivering: int = Field(description="Failed at least once and waiting to be delivered again.")
    dead_letters: int = Field(description="Dead letters of this group waiting for an operator.")
    last_sequence: int = Field(description="The last bus sequence this group has reached.")

    @classmethod
    def of(cls, stats: GroupStats) -> Self:
        """The view of ``stats``."""
        return cls(
            group=stats.group,
            pending=stats.pending,
            in_flight=stats.in_flight,
            redelivering=stats.redelivering,
            dead_letters=stats.dead_letters,
            last_sequence=stats.last_sequence,
        )


class BusStatsView(BaseModel):
    """The bus as a whole, and each consumer group."""

    model_config = ConfigDict(extra="forbid")

    engine: str = Field(description="sqlite (embedded) or jetstream (cluster).", examples=["sqlite"])
    messages: int = Field(description="Messages kept on the bus (retention removes the oldest).")
    first_sequence: int = Field(description="Sequence of the oldest message kept.")
    last_sequence: int = Field(description="Sequence of the newest message.")
    bytes: int = Field(description="Size of the messages kept, in bytes.")
    dead_letters: int = Field(description="Dead letters waiting for an operator, all groups.")
    groups: list[GroupStatsView] = Field(description="Each consumer group, by name.")

    @classmethod
    def of(cls, stats: BusStats) -> Self:
        """The view of ``stats``."""
        return cls(
            engine=stats.engine,
            messages=stats.messages,
            first_sequence=stats.first_sequence,
            last_sequence=stats.last_sequence,
            bytes=stats.bytes,
            dead_letters=stats.dead_letters,
            groups=[GroupStatsView.of(g) for g in stats.groups],
        )


class AttemptView(BaseModel):
    """One failed delivery of a dead letter's message."""

    model_config = ConfigDict(extra="forbid")

    attempt: int = Field(description="1 for the first delivery.")
    at: datetime = Field(description="When it failed (UTC).")
    reason: str = Field(description="Why, as the consumer reported it.")


class DeadLetterSummary(BaseModel):
    """A dead letter without its payload: enough to find it and see why it failed."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The dead letter's id, for show, replay and discard.", examples=["42"])
    group: str = Field(description="The consumer group that could not process it.")
    reason: str = Field(description="Why it was dead-lettered: the last failure or the rejection.")
    dead_at: datetime = Field(description="When it was dead-lettered (UTC).")
    attempt_count: int = Field(description="How many deliveries failed.")
    sequence: int = Field(description="The message's sequence on the bus.")
    subject: str = Field(description="The bus subject it was published on.")
    published_at: datetime = Field(description="When it was published (UTC).")
    event_id: str = Field(description="The id of the event (CloudEvents id).")
    event_type: str = Field(description="The type of the event.", examples=["custody.detainee.released"])

    @classmethod
    def of(cls, dead: DeadLetter) -> Self:
        """The summary of ``dead``."""
        return cls(
            id=dead.id,
            group=dead.group,
            reason=dead.reason,
            dead_at=dead.dead_at,
            attempt_count=len(dead.attempts),
            sequence=dead.message.sequence,
            subject=dead.message.subject,
            published_at=dead.message.published_at,
            event_id=dead.message.envelope.id,
            event_type=dead.message.envelope.type,
        )


class DeadLetterDetail(DeadLetterSummary):
    """A dead letter in full: every failed attempt and the event itself (viewing it is recorded)."""

    attempts: list[AttemptView] = Field(description="Each failed delivery, oldest first.")
    envelope: Envelope = Field(description="The event, exactly as it was published.")

    @classmethod
    def of(cls, dead: DeadLetter) -> Self:
        """The full view of ``dead``."""
        summary = DeadLetterSummary.of(dead)
        return cls(
            **summary.model_dump(),
            attempts=[AttemptView(attempt=a.attempt, at=a.at, reason=a.reason) for a in dead.attempts],
            envelope=dead.message.envelope,
        )


class DeadLetterList(BaseModel):
    """A page of dead letters, oldest first."""

    model_config = ConfigDict(extra="forbid")

    group: str | None = Field(description="The group asked for; null for all groups.")
    limit: int = Field(description="The most that were asked for.")
    dead_letters: list[DeadLetterSummary] = Field(description="The dead letters, oldest first.")


class OperatorReason(BaseModel):
    """Why the operator replays or discards a dead letter; recorded with their name."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON_LENGTH,
        description="Why, in words another operator or an auditor will understand.",
        examples=["custody mapping fixed in release 1.4; INC-2231"],
    )


class ReplayResult(BaseModel):
    """A dead letter sent back to its group."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The dead letter replayed (it no longer exists).")
    outcome: Literal["replayed"] = "replayed"
    sequence: int = Field(description="The bus sequence of the fresh delivery.")

    @classmethod
    def of(cls, dead_letter_id: str, ack: PublishAck) -> Self:
        """The result of replaying ``dead_letter_id``."""
        return cls(id=dead_letter_id, sequence=ack.sequence)


class DiscardResult(BaseModel):
    """A dead letter deleted for good."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="The dead letter discarded.")
    outcome: Literal["discarded"] = "discarded"
    group: str = Field(description="The group it was dead-lettered in.")
    event_id: str = Field(description="The id of the event discarded.")
