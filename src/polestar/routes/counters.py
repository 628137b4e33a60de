"""Counters per route and per connector, and the status models the CLI and API show.

Counters live in the runtime, keyed by name, so they survive a reload that
restarts the route or connector; they count since the hub started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from polestar.model.timeutil import utcnow

MAX_ERROR_TEXT = 500


class RunState(StrEnum):
    """Whether a route or connector is running."""

    RUNNING = "running"
    STOPPED = "stopped"
    DISABLED = "disabled"
    CIRCUIT_OPEN = "circuit open"
    FAILED = "failed"
    """It could not be started; ``last_error`` says why."""


class LastError(BaseModel):
    """The most recent failure: when, and what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: datetime = Field(description="When it happened (UTC).")
    text: str = Field(description="What happened.")


class CounterView(BaseModel):
    """Counts since the hub started."""

    received: int = Field(alias="in", description="Messages taken in.")
    delivered: int = Field(alias="out", description="Messages sent on (deliveries and publishes).")
    filtered: int = Field(description="Messages that produced no output (filtered out).")
    aggregated: int = Field(description="Messages gathered into an aggregate another message carried on.")
    failed: int = Field(description="Failures (each one retried or dead-lettered).")
    dead_lettered: int = Field(description="Messages sent to the dead letters.")
    last_error: LastError | None = Field(default=None, description="The most recent failure.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


@dataclass(slots=True)
class Counters:
    """Mutable counts for one route or connector."""

    received: int = 0
    delivered: int = 0
    filtered: int = 0
    aggregated: int = 0
    failed: int = 0
    dead_lettered: int = 0
    last_error: LastError | None = None
    state: RunState = RunState.STOPPED
    circuit_open: set[str] = field(default_factory=set)
    """Names of outputs whose circuit breaker is open or half-open."""

    def fail(self, text: str, *, dead_lettered: bool = False) -> None:
        """Count a failure and remember it."""
        self.failed += 1
        if dead_lettered:
            self.dead_lettered += 1
        self.error(text)

    def error(self, text: str) -> None:
        """Remember an error without counting a failed message (e.g. a start that failed)."""
        self.last_error = LastError(at=utcnow(), text=text[:MAX_ERROR_TEXT])

    @property
    def effective_state(self) -> RunState:
        """The state, with an open breaker shown on a running route."""
        if self.state is RunState.RUNNING and self.circuit_open:
            return RunState.CIRCUIT_OPEN
        return self.state

    def view(self) -> CounterView:
        """A snapshot."""
        return CounterView.model_validate(
            {
                "in": self.received,
                "out": self.delivered,
                "filtered": self.filtered,
                "aggregated": self.aggregated,
                "failed": self.failed,
                "dead_lettered": self.dead_lettered,
                "last_error": self.last_error,
            }
        )


class OutputView(BaseModel):
    """One output of a route."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="The output's name (what a choice step names).")
    connector: str | None = Field(default=None, description="The connector delivered to.")
    subject: str | None = Field(default=None, description="The bus subject published on.")
    circuit: str | None = Field(
        default=None, description="The circuit breaker's state: closed, open, half-open (None: no breaker)."
    )


class RouteStatus(BaseModel):
    """A route as operators see it: what it reads, where it sends, how it is doing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    state: RunState
    group: str = Field(description="Its durable consumer group on the bus.")
    subjects: list[str] = Field(description="The subject filters it reads.")
    steps: list[str] = Field(description="Its steps, in order, by kind.")
    outputs: list[OutputView]
    file: str | None = Field(default=None, description="The file that defines it.")
    counters: CounterView


class ConnectorStatus(BaseModel):
    """A connector as operators see it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: str = Field(description="Its kind: http, file, soap...")
    inbound: bool = Field(description="It receives from its system.")
    outbound: bool = Field(description="It delivers to its system.")
    state: RunState
    file: str | None = Field(default=None, description="The file that defines it.")
    counters: CounterView
