"""The CloudEvents 1.0 envelope every message on the Polestar bus travels in.

Required CloudEvents attributes (``specversion``, ``id``, ``source``, ``type``)
and the optional ones Polestar always fills (``time``, ``datacontenttype``,
``dataschema``) are joined by Polestar's extension attributes:

==================  ==========================================================
``correlationid``   ties every message of one business flow together
``causationid``     the id of the message that caused this one
``classification``  the protective marking label, e.g. ``OFFICIAL-SENSITIVE``
``actor``           the acting identity (user, device or system)
``purpose``         the stated purpose of the processing, where given
``partitionkey``    CloudEvents Partitioning: events with one key stay in order
``traceparent``     CloudEvents Distributed Tracing (W3C trace context)
==================  ==========================================================

Event type names follow one scheme (see ``docs/event-types.md``): dotted,
lower case, subject first, ending in a past-tense verb, e.g.
``custody.detainee.released`` or ``incident.unit.assigned``.
"""

from __future__ import annotations

import functools
import re
import uuid
import weakref
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from polestar.model.marking import ProtectiveMarking, normalised_label
from polestar.model.timeutil import UtcDateTime, utcnow

EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?:\.[a-z][a-z0-9]*(?:-[a-z0-9]+)*){1,5}$"
"""Two to six dotted, lower-case segments (hyphens allowed inside a segment)."""

_IRREGULAR_PAST = frozenset(
    {
        "begun", "brought", "built", "caught", "done", "drawn", "found", "given", "held",
        "kept", "known", "left", "made", "met", "paid", "put", "read", "run", "seen", "sent",
        "set", "shown", "sold", "spent", "struck", "taken", "told", "undone", "withdrawn",
        "written", "upheld", "withheld", "overturned", "bound", "lost", "won", "heard",
    }
)  # fmt: skip

SCHEMA_URN_PREFIX = "urn:polestar:schema:"
"""``dataschema`` values are ``urn:polestar:schema:<name>:<major>.<minor>``."""

_SCHEMA_URN = re.compile(r"^urn:polestar:schema:(?P<name>[a-z][a-z0-9-]*):(?P<ver>\d+\.\d+)$")

MAX_ID_LENGTH = 256


def is_past_tense(word: str) -> bool:
    """True for the last segment of a well-formed event type (``created``, ``sent``)."""
    return word.endswith("ed") or word in _IRREGULAR_PAST


@functools.lru_cache(maxsize=4096)  # a hub sees few distinct types; validated once each
def check_event_type(value: str) -> str:
    """Validate an event type name against the house scheme, saying what is wrong."""
    if not re.match(EVENT_TYPE_PATTERN, value):
        raise ValueError(
            f"event type {value!r} must be 2-6 dotted lower-case segments, "
            "subject first, e.g. 'custody.detainee.released'"
        )
    verb = value.rsplit(".", 1)[-1].rsplit("-", 1)[-1]
    if not is_past_tense(verb):
        raise ValueError(
            f"event type {value!r} must end in a past-tense verb "
            f"(e.g. 'created', 'assigned', 'sent'), not {verb!r}"
        )
    return value


def schema_urn(name: str, version: str) -> str:
    """The ``dataschema`` URN for a canonical schema ``name`` at ``version`` (``1.0``)."""
    urn = f"{SCHEMA_URN_PREFIX}{name}:{version}"
    if not _SCHEMA_URN.match(urn):
        raise ValueError(f"not a valid schema name/version: {name!r} {version!r}")
    return urn


@functools.lru_cache(maxsize=1024)
def parse_schema_urn(urn: str) -> tuple[str, tuple[int, int]]:
    """Split a ``dataschema`` URN into its name and (major, minor) version."""
    match = _SCHEMA_URN.match(urn)
    if match is None:
        raise ValueError(f"dataschema {urn!r} is not of the form urn:polestar:schema:NAME:M.N")
    major, minor = match.group("ver").split(".")
    return match.group("name"), (int(major), int(minor))


EventType = Annotated[str, StringConstraints(max_length=200)]
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH)]


def new_event_id() -> str:
    """A fresh, globally unique event id."""
    return str(uuid.uuid4())


class Envelope(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode, with Polestar's extensions."""

    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_timedelta="iso8601")

    specversion: Literal["1.0"] = Field(default="1.0", description="CloudEvents version.")
    id: NonEmpty = Field(
        default_factory=new_event_id,
        description="Unique per source; the bus uses it as the default idempotency key.",
        examples=["6f1c2c36-8d6e-4bb5-9a0e-1f4d1d7f2c11"],
    )
    source: NonEmpty = Field(
        description="URI-reference of the producer: the connector or component that emitted it.",
        examples=["/connectors/custody", "/sims/cad"],
    )
    type: EventType = Field(
        description="Dotted, lower-case, subject first, past-tense verb last.",
        examples=["custody.detainee.released", "incident.unit.assigned"],
    )
    subject: NonEmpty | None = Field(
        default=None,
        description="What the event is about within the source, e.g. an incident reference.",
        examples=["INC-20261124-0042"],
    )
    time: UtcDateTime = Field(
        default_factory=utcnow, description="When the occurrence happened, stored in UTC."
    )
    datacontenttype: Literal["application/json"] = Field(
        default="application/json", description="Polestar payloads are JSON."
    )
    dataschema: NonEmpty | None = Field(
        default=None,
        description="The canonical schema and version of ``data``: urn:polestar:schema:NAME:M.N.",
        examples=["urn:polestar:schema:custody-episode:1.0"],
    )
    data: dict[str, Any] | None = Field(default=None, description="The canonical POLE payload.")

    correlationid: NonEmpty | None = Field(
        default=None, description="Ties every message of one business flow together."
    )
    causationid: NonEmpty | None = Field(
        default=None, description="The id of the message that caused this one."
    )
    classification: str = Field(
        default="OFFICIAL",
        description="Protective marking label of the payload, e.g. 'OFFICIAL-SENSITIVE [PERSONAL]'.",
        examples=["OFFICIAL", "OFFICIAL-SENSITIVE [PERSONAL]", "SECRET"],
    )
    actor: NonEmpty | None = Field(
        default=None,
        description="The acting identity: a user, a device or a system.",
        examples=["user:PC1234@met", "device:tablet-0042", "system:cad"],
    )
    purpose: NonEmpty | None = Field(
        default=None,
        description="The stated purpose of the processing, where one was given.",
        examples=["roadside check: vehicle stopped for defective light"],
    )
    partitionkey: NonEmpty | None = Field(
        default=None,
        description="Events with the same key are delivered in order (CloudEvents Partitioning).",
        examples=["INC-20261124-0042"],
    )
    traceparent: (
        Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")]
        | None
    ) = Field(default=None, description="W3C trace context (CloudEvents Distributed Tracing).")

    @field_validator("type")
    @classmethod
    def _type_follows_scheme(cls, value: str) -> str:
        return check_event_type(value)

    @field_validator("classification")
    @classmethod
    def _classification_is_a_marking(cls, value: str) -> str:
        return normalised_label(value)

    @field_validator("dataschema")
    @classmethod
    def _dataschema_is_versioned(cls, value: str | None) -> str | None:
        if value is not None:
            parse_schema_urn(value)
        return value

    @property
    def marking(self) -> ProtectiveMarking:
        """The protective marking as a model."""
        return ProtectiveMarking.parse(self.classification)

    def to_json(self) -> bytes:
        """The event in CloudEvents structured JSON mode, without unset optional attributes."""
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        """Parse a structured-mode CloudEvent; raises pydantic ``ValidationError`` if invalid."""
        event = cls.model_validate_json(raw)
        mark_validated(event)
        return event

    def caused(self, **changes: Any) -> Envelope:
        """A new event caused by this one: fresh id and time, same correlation and marking."""
        base: dict[str, Any] = {
            "correlationid": self.correlationid or self.id,
            "causationid": self.id,
            "classification": self.classification,
            "actor": self.actor,
            "purpose": self.purpose,
            "partitionkey": self.partitionkey,
            "traceparent": self.traceparent,
        }
        base.update(changes)
        event = Envelope(**base)
        mark_validated(event)
        return event


_VALIDATED: dict[int, weakref.ref[Envelope]] = {}
_VALIDATED_MAX = 65_536


def mark_validated(envelope: Envelope) -> None:
    """Record that this very object passed validation, so a publisher need not check it again.

    Only paths that validate mark (``from_json``, ``caused``, the bus's own check);
    ``model_construct`` and ``model_copy`` build new, unmarked objects, which are
    validated in full at publish. Envelopes are frozen, so a marked one stays valid.
    """
    if len(_VALIDATED) >= _VALIDATED_MAX:
        _VALIDATED.clear()  # forgetting costs only a later re-validation
    _VALIDATED[id(envelope)] = weakref.ref(envelope)


def is_validated(envelope: Envelope) -> bool:
    """True when this very object was marked by ``mark_validated`` (an id reused later is not)."""
    ref = _VALIDATED.get(id(envelope))
    return ref is not None and ref() is envelope
