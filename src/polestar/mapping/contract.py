"""The mapping contract: a system's own records to canonical events and back.

A codec (owned by the connector) turns bytes into *records*: plain JSON-like
values (dicts, lists, strings, numbers). CSV rows are dicts of column to text;
XML is converted to dicts with the ``@attribute`` / ``#text`` convention. A
mapping then works on records only, so one mapping serves a system whether it
sends files, HTTP or broker messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from polestar.model.envelope import Envelope


@dataclass(frozen=True, slots=True)
class MappingContext:
    """Where a record came from, for provenance and for naming it in errors."""

    connector: str
    source: str
    """The envelope ``source`` to use, e.g. ``/connectors/custody-files``."""
    where: str
    """The record's location, e.g. ``custody-20261124.csv:17``."""
    received_at: datetime
    reference: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    actor: str | None = None
    correlationid: str | None = None


class InboundMapping(Protocol):
    """Turns one system record into zero or more canonical events."""

    name: str

    def to_canonical(self, record: Any, context: MappingContext) -> list[Envelope]:
        """Map ``record``; raise ``MappingFailed`` naming the field and the reason."""
        ...


class OutboundMapping(Protocol):
    """Turns one canonical event into a system record (to be encoded by the connector's codec)."""

    name: str

    def from_canonical(self, envelope: Envelope) -> Any:
        """Map ``envelope``; raise ``MappingFailed`` naming the field and the reason."""
        ...
