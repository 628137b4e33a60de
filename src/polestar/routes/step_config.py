"""The steps a route may run, as configuration: one pydantic model per kind of step.

Split from ``polestar.routes.config`` (which re-exports every name here) so that
each module holds one concept: this one the steps, that one sources, outputs
and the route itself.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from polestar.bus.contract import check_subject
from polestar.connectors.codecs import RecordFormat
from polestar.model.envelope import check_event_type
from polestar.routes.expressions import check_expression

SETTABLE_ATTRIBUTES = frozenset(
    {"subject", "partitionkey", "type", "dataschema", "purpose", "classification"}
)
"""Envelope attributes a ``set`` step may change besides ``data``."""


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _dotted(value: str) -> str:
    if not re.match(r"^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$", value):
        raise ValueError(f"{value!r} is not a dotted path such as 'pnc' or 'person.pnc_record'")
    return value


Expression = Annotated[str, AfterValidator(check_expression)]
"""A JMESPath expression, compiled when the configuration is loaded so a typo is found there."""
EventTypeName = Annotated[str, AfterValidator(check_event_type)]
"""An event type following the naming scheme (dotted, subject first, past-tense verb)."""
DottedPath = Annotated[str, AfterValidator(_dotted)]
"""Where in ``data`` a step puts what it got: ``pnc`` or ``person.pnc_record``."""


class FilterStep(_Config):
    """Keep a message only when the expression is true; others are counted as filtered."""

    step: Literal["filter"] = "filter"
    expr: Expression = Field(
        description="JMESPath over the envelope; true keeps the message.",
        examples=["data.kind == 'custody'", "contains(['arrested', 'charged'], data.status)"],
    )


class MapStep(_Config):
    """Transform the canonical payload: a named mapping over ``data``, or a Python function.

    A mapping (from the mappings folder) receives ``data`` as its record and
    returns zero or more events; a function (``package.module:function``)
    receives the envelope and returns an envelope, a list of them, or None to
    filter. Each result is recorded as caused by the input.
    """

    step: Literal["map"] = "map"
    mapping: str | None = Field(
        default=None,
        description="Name of an inbound mapping applied to `data`.",
        examples=["custody-minimal"],
    )
    python: str | None = Field(
        default=None,
        description="A function `package.module:function(envelope)` when a declaration can't say it.",
        examples=["polestar_force.custody:minimise"],
        pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
    )

    @model_validator(mode="after")
    def _one_of(self) -> MapStep:
        if (self.mapping is None) == (self.python is None):
            raise ValueError("give exactly one of mapping and python")
        return self


class SetStep(_Config):
    """Set fields from expressions: ``data.<path>`` in the payload, or an envelope attribute."""

    step: Literal["set"] = "set"
    values: dict[str, str] = Field(
        min_length=1,
        description=(
            "Target to JMESPath expression. Targets are `data.<dotted.path>` or one of "
            "subject, partitionkey, type, dataschema, purpose, classification. "
            "Quote literals JMESPath-style: `'text'` or `` `42` ``."
        ),
        examples=[{"partitionkey": "data.incident.reference", "data.routed_by": "'polestar'"}],
    )

    @field_validator("values")
    @classmethod
    def _targets(cls, value: dict[str, str]) -> dict[str, str]:
        for target, expr in value.items():
            if not (target.startswith("data.") and len(target) > 5) and target not in SETTABLE_ATTRIBUTES:
                allowed = ", ".join(sorted(SETTABLE_ATTRIBUTES))
                raise ValueError(f"cannot set {target!r}: use data.<path> or one of {allowed}")
            check_expression(expr)
        return value


class TimeoutPolicy(StrEnum):
    """What an ``enrich`` step does when nobody answers in time."""

    FAIL = "fail"
    SKIP = "skip"


class EnrichStep(_Config):
    """Ask another system over the bus (request/reply, e.g. a PNC check) and add its answer to ``data``."""

    step: Literal["enrich"] = "enrich"
    subject: str = Field(description="Bus subject the request is sent to.", examples=["pnc.person.check"])
    request: Expression = Field(
        default="data",
        description="JMESPath over the envelope giving the request's `data`.",
        examples=["data.person", "{surname: data.surname, dob: data.date_of_birth}"],
    )
    type: EventTypeName | None = Field(
        default=None,
        description="Event type of the request (default: the message's own type).",
        examples=["pnc.person.queried"],
    )
    reply: Expression = Field(
        default="data", description="JMESPath over the reply envelope giving what is stored."
    )
    into: DottedPath = Field(
        description="Dotted path in `data` where the answer is put.", examples=["pnc", "person.pnc_record"]
    )
    timeout: float = Field(default=5.0, gt=0, le=300, description="Seconds to wait for the reply.")
    on_timeout: TimeoutPolicy = Field(
        default=TimeoutPolicy.FAIL,
        description="`fail`: retry the message later; `skip`: carry on without the answer.",
    )

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: Any) -> Any:
        return check_subject(value)


class CallStep(_Config):
    """Call a system through its outbound connector (request/reply) and add its answer to ``data``.

    The event is mapped and encoded as a ``to: connector`` output would, and
    delivered with the event id as the idempotency key, so a redelivered
    message gets the system's first answer again. What the system answered
    goes to ``data.<into>``: ``{reference, status, body}`` (``reference`` is
    the ``Location`` or the body's ``id``/``reference``). A refusal (4xx)
    dead-letters the message with the system's reasons; a failure retries it.
    """

    step: Literal["call"] = "call"
    connector: str = Field(description="An outbound connector (from the connectors folder).")
    mapping: str | None = Field(
        default=None,
        description="Outbound mapping for the request (default: the connector's `mapping.outbound`).",
        examples=["crime-draft-report"],
    )
    format: RecordFormat | None = Field(
        default=None, description="How the request is encoded (default: the connector's `format`)."
    )
    target: str | None = Field(default=None, description="Kind-specific destination, as for outputs.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers sent with the call.")
    into: DottedPath = Field(
        description="Dotted path in `data` where the answer is put.", examples=["crime_recording"]
    )


class ChoiceWhen(_Config):
    """One branch of a content-based router."""

    expr: Expression = Field(description="JMESPath over the envelope.", examples=["data.priority == 'high'"])
    to: tuple[str, ...] = Field(
        min_length=1, description="Names of the outputs (in `to`) that get the message when true."
    )

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class ChoiceStep(_Config):
    """Content-based router: the first true branch picks the outputs; must be the last step."""

    step: Literal["choice"] = "choice"
    when: tuple[ChoiceWhen, ...] = Field(min_length=1, description="Branches, tried in order.")
    otherwise: tuple[str, ...] = Field(
        default=(),
        description="Outputs for a message no branch matched; empty: the message is filtered.",
    )

    @field_validator("otherwise", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class SplitStep(_Config):
    """One message per item of an array; each gets a derived id, so redelivery makes the same ids."""

    step: Literal["split"] = "split"
    expr: Expression = Field(
        description="JMESPath giving the array; an object item becomes `data`, any other `{item: ...}`.",
        examples=["data.people"],
    )
    type: EventTypeName | None = Field(
        default=None, description="Event type of the parts (default: the input's)."
    )


class AggregateStep(_Config):
    """Gather messages with the same key into one, completed by size or by time.

    The inputs are not acknowledged until the aggregate has been delivered: if
    the hub stops abruptly with a partial aggregate, its inputs are redelivered
    and gathered again; on a graceful stop (or reload) a partial aggregate is
    completed early with ``completion: stop``. The aggregate's id is derived
    from its inputs' ids, so gathering the same inputs again yields the same id.
    Its ``data`` is ``{key, count, completion, items: [each input's data]}``.
    """

    step: Literal["aggregate"] = "aggregate"
    key: Expression = Field(
        default="partitionkey || 'all'",
        description="JMESPath giving the aggregation key; messages with equal keys are gathered.",
        examples=["data.custody_suite", "partitionkey"],
    )
    size: int | None = Field(
        default=None, ge=1, le=1000, description="Complete when this many messages are gathered."
    )
    timeout: float | None = Field(
        default=None, gt=0, le=3600, description="Complete this many seconds after the first arrived."
    )
    type: EventTypeName | None = Field(
        default=None, description="Event type of the aggregate (default: the first input's)."
    )

    @model_validator(mode="after")
    def _completion(self) -> AggregateStep:
        if self.size is None and self.timeout is None:
            raise ValueError("give size, timeout or both: an aggregate must know when it is complete")
        return self


class WiretapStep(_Config):
    """Publish a copy of the message to a bus subject (for monitoring or audit) and carry on."""

    step: Literal["wiretap"] = "wiretap"
    subject: str = Field(
        description="Bus subject the copy is published on.", examples=["audit.routes.tapped"]
    )

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: Any) -> Any:
        return check_subject(value)


class ThrottleStep(_Config):
    """Let at most ``rate`` messages a second through (bursts up to ``burst``); others wait their turn."""

    step: Literal["throttle"] = "throttle"
    rate: float = Field(gt=0, le=100_000, description="Messages per second, on average.", examples=[5])
    burst: int = Field(default=1, ge=1, le=100_000, description="Messages allowed through at once.")


StepConfig = Annotated[
    FilterStep
    | MapStep
    | SetStep
    | EnrichStep
    | CallStep
    | ChoiceStep
    | SplitStep
    | AggregateStep
    | WiretapStep
    | ThrottleStep,
    Field(discriminator="step"),
]
"""One step of a route, chosen by its ``step`` field."""
