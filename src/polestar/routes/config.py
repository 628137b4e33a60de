"""What a route file says: inputs, steps and outputs, each a pydantic model that forbids extras.

A route file holds a ``routes:`` list. Each route reads bus subjects through
its own durable consumer group ``route-<name>`` (whose settings are the route's
retry policy), runs its ``steps`` in order, and delivers what comes out to
every output in ``to`` (or, after a ``choice`` step, to the outputs it chose).

The reference in ``docs/routes.md`` is generated from these models.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from polestar.bus.contract import (
    BackoffPolicy,
    ConsumerSpec,
    DeliverPolicy,
    check_filter,
    check_subject,
    subject_matches,
)
from polestar.connectors.codecs import RecordFormat
from polestar.routes.step_config import (
    SETTABLE_ATTRIBUTES,
    AggregateStep,
    CallStep,
    ChoiceStep,
    ChoiceWhen,
    EnrichStep,
    EventTypeName,
    FilterStep,
    MapStep,
    SetStep,
    SplitStep,
    StepConfig,
    ThrottleStep,
    TimeoutPolicy,
    WiretapStep,
    _Config,
)

__all__ = [
    "GROUP_PREFIX",
    "ROUTE_NAME_PATTERN",
    "SETTABLE_ATTRIBUTES",
    "AggregateStep",
    "CallStep",
    "ChoiceStep",
    "ChoiceWhen",
    "CircuitBreakerConfig",
    "ConnectorOutput",
    "EnrichStep",
    "FilterStep",
    "MapStep",
    "OutputConfig",
    "RouteConfig",
    "RouteSource",
    "RoutesFile",
    "SetStep",
    "SplitStep",
    "StepConfig",
    "SubjectOutput",
    "ThrottleStep",
    "TimeoutPolicy",
    "WiretapStep",
]

ROUTE_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,57}$")
"""Route names: lower case, so ``route-<name>`` is a valid consumer group (at most 64 characters)."""

GROUP_PREFIX = "route-"


class RouteSource(_Config):
    """Where a route reads from: bus subjects, through a durable consumer group ``route-<name>``.

    ``ack_wait``, ``max_attempts`` and ``backoff`` are the route's retry policy:
    a message that fails is delivered again after the backoff (or the
    ``Retry-After`` the system gave, whichever is longer) until
    ``max_attempts``, then it goes to the dead letters, where an operator can
    replay it.
    """

    subjects: tuple[str, ...] = Field(
        min_length=1,
        description="Bus subject filters (NATS style: `*` one token, a final `>` the rest).",
        examples=[["custody.>"], ["incident.*.assigned", "incident.*.updated"]],
    )
    ack_wait: float = Field(
        default=30.0, gt=0, le=3600, description="Seconds a message may stay unsettled before redelivery."
    )
    max_attempts: int = Field(
        default=5, ge=1, le=1000, description="Deliveries before a message is dead-lettered."
    )
    backoff: BackoffPolicy = Field(
        default_factory=BackoffPolicy, description="Delays between attempts: exponential, capped, jittered."
    )
    ordered_by_key: bool = Field(
        default=False,
        description=(
            "Handle messages with the same partition key one at a time, in publish order "
            "(a failing message holds back the later ones of its key)."
        ),
    )
    deliver: DeliverPolicy = Field(
        default=DeliverPolicy.ALL,
        description="Where a new route starts: every retained message (`all`) or only new ones (`new`).",
    )
    concurrency: int = Field(
        default=16, ge=1, le=1000, description="Most messages the route handles at once."
    )

    @field_validator("subjects")
    @classmethod
    def _filters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_filter(v) for v in value)


# -- steps ---------------------------------------------------------------------------------------


# -- outputs -------------------------------------------------------------------------------------


class CircuitBreakerConfig(_Config):
    """Stop calling a system that keeps failing, and try it again after a pause.

    ``failure_threshold`` transient failures within ``window`` seconds open the
    breaker: no calls are made for ``open_seconds``. Messages are not failed
    meanwhile: each one waits (holding its place, not using up attempts) until
    the breaker half-opens and lets ``half_open_probes`` calls through; one
    success closes it, a failure opens it again.
    """

    failure_threshold: int = Field(default=5, ge=1, le=10_000, description="Failures that open the breaker.")
    window: float = Field(default=60.0, gt=0, le=86_400, description="Seconds the failures are counted over.")
    open_seconds: float = Field(default=30.0, gt=0, le=86_400, description="Seconds the breaker stays open.")
    half_open_probes: int = Field(
        default=1, ge=1, le=100, description="Calls let through at once while half-open."
    )


class ConnectorOutput(_Config):
    """Deliver to a system: outbound mapping, encoding in the system's format, then its connector."""

    name: str | None = Field(
        default=None, description="Name a `choice` step uses (default: the connector's name)."
    )
    connector: str = Field(description="An outbound connector (from the connectors folder).")
    mapping: str | None = Field(
        default=None,
        description=(
            "Outbound mapping from the canonical event to the system's record (default: the "
            "connector's `mapping.outbound`; with neither, the record is the event's `data`)."
        ),
        examples=["custody-to-warehouse"],
    )
    format: RecordFormat | None = Field(
        default=None, description="How the record is encoded (default: the connector's `format`)."
    )
    target: str | None = Field(
        default=None,
        description="Kind-specific destination: a path, a topic, an address.",
        examples=["/api/custody-events"],
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers sent with each message.")
    circuit_breaker: CircuitBreakerConfig | None = Field(
        default=None, description="Wrap delivery in a circuit breaker (recommended for remote systems)."
    )

    @property
    def output_name(self) -> str:
        """The name a ``choice`` step refers to."""
        return self.name or self.connector


class SubjectOutput(_Config):
    """Publish to a bus subject, as a new event caused by the one the route received."""

    name: str | None = Field(default=None, description="Name a `choice` step uses (default: the subject).")
    subject: str = Field(description="Bus subject to publish on.", examples=["custody.minimised.recorded"])
    type: EventTypeName | None = Field(
        default=None, description="Event type (default: the message's own type)."
    )

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: Any) -> Any:
        return check_subject(value)

    @property
    def output_name(self) -> str:
        """The name a ``choice`` step refers to."""
        return self.name or self.subject


def _output_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return "subject" if "subject" in value and "connector" not in value else "connector"
    return "subject" if isinstance(value, SubjectOutput) else "connector"


OutputConfig = Annotated[
    Annotated[ConnectorOutput, Tag("connector")] | Annotated[SubjectOutput, Tag("subject")],
    Discriminator(_output_kind),
]
"""Where a route delivers: ``connector:`` or ``subject:``."""


# -- a route and a file of them ------------------------------------------------------------------


class RouteConfig(_Config):
    """A pipeline from bus subjects through steps to one or more outputs."""

    name: str = Field(
        description=(
            "Unique name: lower-case letters, digits, '-' and '_' (its consumer group is `route-<name>`)."
        ),
        examples=["custody-to-warehouse"],
    )
    description: str = Field(default="", description="What the route is for, in a sentence.")
    enabled: bool = Field(default=True, description="A disabled route is validated but not run.")
    source: RouteSource = Field(alias="from", description="The bus subjects read, and the retry policy.")
    steps: tuple[StepConfig, ...] = Field(default=(), description="Steps, run in order.")
    to: tuple[OutputConfig, ...] = Field(min_length=1, description="Outputs: connectors and bus subjects.")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not ROUTE_NAME_PATTERN.match(value):
            raise ValueError(
                f"invalid route name {value!r}: 1-58 lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        return value

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _consistent(self) -> RouteConfig:
        names = [output.output_name for output in self.to]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"output name(s) {', '.join(repeated)} used twice: give each a distinct name")
        self._no_loops()
        for index, step in enumerate(self.steps):
            if isinstance(step, ChoiceStep):
                if index != len(self.steps) - 1:
                    raise ValueError("a choice step picks outputs, so it must be the last step")
                chosen = {n for branch in step.when for n in branch.to} | set(step.otherwise)
                unknown = sorted(chosen - set(names))
                if unknown:
                    raise ValueError(
                        f"choice names output(s) {', '.join(unknown)} not in `to` "
                        f"(outputs: {', '.join(names)})"
                    )
            if (
                isinstance(step, AggregateStep)
                and step.size is not None
                and step.size > self.source.concurrency
            ):
                raise ValueError(
                    f"aggregate size {step.size} exceeds from.concurrency {self.source.concurrency}: "
                    "the inputs of an aggregate are held in flight until it is delivered"
                )
        return self

    def _no_loops(self) -> None:
        published = [o.subject for o in self.to if isinstance(o, SubjectOutput)]
        published += [s.subject for s in self.steps if isinstance(s, WiretapStep)]
        for subject in published:
            read = [f for f in self.source.subjects if subject_matches(f, subject)]
            if read:
                raise ValueError(
                    f"the route publishes on {subject!r}, which it reads itself ({read[0]!r}): "
                    "every message would come round again"
                )

    @property
    def group(self) -> str:
        """The durable consumer group of this route."""
        return f"{GROUP_PREFIX}{self.name}"

    def consumer_spec(self) -> ConsumerSpec:
        """The bus consumer group the route runs on."""
        return ConsumerSpec(
            group=self.group,
            subjects=self.source.subjects,
            ack_wait=self.source.ack_wait,
            max_attempts=self.source.max_attempts,
            backoff=self.source.backoff,
            ordered_by_key=self.source.ordered_by_key,
            deliver=self.source.deliver,
        )

    def connectors(self) -> set[str]:
        """Names of the connectors this route delivers to."""
        called = {s.connector for s in self.steps if isinstance(s, CallStep)}
        return called | {o.connector for o in self.to if isinstance(o, ConnectorOutput)}

    def mappings(self) -> tuple[set[str], set[str]]:
        """Names of the (inbound, outbound) mappings this route uses."""
        inbound = {s.mapping for s in self.steps if isinstance(s, MapStep) and s.mapping}
        outbound = {o.mapping for o in self.to if isinstance(o, ConnectorOutput) and o.mapping}
        outbound |= {s.mapping for s in self.steps if isinstance(s, CallStep) and s.mapping}
        return inbound, outbound


class RoutesFile(_Config):
    """A route file: ``routes:`` and the routes in it."""

    routes: tuple[RouteConfig, ...] = Field(default=(), description="The routes this file defines.")
