"""The connector contract: how a system's own messages get in and out of the hub.

A connector kind (``http``, ``soap``, ``file``, ``nats``, ``amqp``, ``mqtt``,
``email``) is a subpackage with the same files: ``config.py`` (its pydantic
config), ``inbound.py`` and/or ``outbound.py``, and ``codec.py`` where it has a
format of its own. Vendor message types never leave the connector: inbound it
hands the hub a ``RawMessage``; outbound it receives an ``OutboundMessage``.

Inbound::

    system ──► InboundConnector ──RawMessage──► Ingest (hub: decode, map, publish durably)
                    ▲                                  │
                    └──────────── IngestResult ◄───────┘   then ack upstream / archive / answer

The connector acknowledges the system only after ``Ingest`` returned, i.e. after
the canonical events are durable on the bus. Records that could not be mapped
come back in ``IngestResult.rejected`` with a reason; what the connector does
with them is its kind's policy (an error folder with a reason file, a 4xx
answer listing them, ``Ingest.quarantine`` for brokers) but they are never
silently dropped.

Outbound::

    route ──OutboundMessage──► OutboundConnector.deliver ──► system
                                    raises DeliveryFailed (retry) / DeliveryRefused (dead-letter)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel

from polestar.bus.contract import PublishAck
from polestar.model.envelope import Envelope
from polestar.model.timeutil import utcnow


@dataclass(frozen=True, slots=True)
class RawMessage:
    """What a system sent, in its own format, before decoding and mapping."""

    connector: str
    body: bytes
    content_type: str
    reference: str
    """The system's or transport's own reference: a file name, a message id, a request id."""
    headers: Mapping[str, str] = field(default_factory=dict)
    received_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True, slots=True)
class Rejection:
    """One record that was not accepted, with where it was and why."""

    where: str
    """e.g. ``custody-20261124.csv:17`` or ``request 4f2a…: record 3``."""
    reason: str
    field: str | None = None
    record: str | None = None
    """The record as received (text), so an operator can fix and resubmit it."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What became of one ``RawMessage``: the events published and the records rejected."""

    accepted: tuple[PublishAck, ...] = ()
    event_ids: tuple[str, ...] = ()
    rejected: tuple[Rejection, ...] = ()
    unmapped: tuple[str, ...] = ()
    """Where each record was that its mapping made no event of by design (``ignore_when``): taken."""

    @property
    def complete(self) -> bool:
        """True when every record was accepted."""
        return not self.rejected


class Ingest(Protocol):
    """Provided by the hub to every inbound connector."""

    async def __call__(self, raw: RawMessage) -> IngestResult:
        """Decode, map and publish durably; return only when the events are on the bus.

        Raises ``InboundRefused`` when the message as a whole is unacceptable
        (hostile or malformed XML, too large, an unknown content type).
        """
        ...

    async def quarantine(self, raw: RawMessage, reason: str) -> None:
        """Keep a message the hub could not take, durably, where an operator sees it."""
        ...


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A canonical event already mapped and encoded into a system's own format."""

    envelope: Envelope
    body: bytes
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    """A kind-specific destination chosen by the route (a path, a topic, an address)."""

    @property
    def idempotency_key(self) -> str:
        """The key a system can use to drop a repeat: the event id."""
        return self.envelope.id


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """The system's acknowledgement: a reference it gave back, and anything it returned."""

    reference: str | None = None
    response: Mapping[str, Any] = field(default_factory=dict)


class InboundConnector(Protocol):
    """Receives from a system. Constructors do no I/O."""

    name: str

    async def start(self, ingest: Ingest) -> None:
        """Begin receiving (listen, subscribe, watch a folder) and hand each message to ``ingest``."""
        ...

    async def stop(self) -> None:
        """Stop receiving; in-flight messages finish or stay unacknowledged upstream."""
        ...


class OutboundConnector(Protocol):
    """Delivers to a system. Constructors do no I/O."""

    name: str

    async def start(self) -> None:
        """Open connections."""
        ...

    async def stop(self) -> None:
        """Flush (e.g. a micro-batch) and close."""
        ...

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Deliver one message; raise ``DeliveryFailed`` to retry or ``DeliveryRefused`` to dead-letter."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectorKind:
    """A registered kind of connector: its name, config models and factories."""

    name: str
    inbound_config: type[BaseModel] | None
    outbound_config: type[BaseModel] | None
    inbound: Callable[[str, Any], InboundConnector] | None = None
    """``factory(connector_name, inbound_config) -> InboundConnector``."""
    outbound: Callable[[str, Any], OutboundConnector] | None = None
    """``factory(connector_name, outbound_config) -> OutboundConnector``."""
    extra: str | None = None
    """The pip extra its client needs, named in the error when it is missing."""
