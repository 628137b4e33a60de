"""A route's outputs: deliver to a connector, or publish on a bus subject.

Each output works in two halves so ``polestar routes test`` can show what
would be sent without sending it: ``prepare`` (pure: map, encode, stamp) and
``send`` (I/O). An event delivered to a system keeps its id, which the system
receives as the idempotency key; an event published on a subject is a new
event caused by the route's message, with an id derived from it so that a
redelivery publishes a duplicate the bus drops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from polestar.bus.contract import BusEngine
from polestar.connectors.codecs import (
    CONTENT_TYPES,
    DEFAULT_OPTIONS,
    CodecOptions,
    RecordFormat,
)
from polestar.connectors.contract import OutboundConnector, OutboundMessage
from polestar.connectors.encoding import encode_record
from polestar.errors import CircuitOpen, DeliveryFailed, MappingFailed
from polestar.mapping.contract import OutboundMapping
from polestar.model.envelope import Envelope
from polestar.routes.breaker import CircuitBreaker
from polestar.routes.config import ConnectorOutput, SubjectOutput
from polestar.routes.counters import Counters
from polestar.routes.derive import derived_id, route_source

DeliveryRecorder = Callable[[str, "str | None", Envelope], Awaitable[None]]
"""Told of each message a system accepted: ``(connector, target, envelope)``.

The audit log's disclosure seam (DPA 2018 s62): the API passes one that appends a
``disclosure`` entry naming the recipient; raising fails the delivery, so it is
retried (the system receives the same idempotency key) until it is recorded.
"""

DeliveryGate = Callable[[str, "str | None", Envelope], Awaitable[Envelope]]
"""Asked before each delivery: ``(connector, target, envelope)`` to the envelope to send.

The data-sharing agreement check (``polestar.security``): it returns the envelope
minimised to what the agreement allows, or raises ``DeliveryRefused`` so the flow
does not happen and the message is dead-lettered with the reason.
"""


class Output(Protocol):
    """One destination of a route."""

    name: str

    def describe(self) -> str:
        """Where it sends, for operators: ``connector warehouse`` or ``subject custody.routed``."""
        ...

    def preview(self, envelope: Envelope) -> dict[str, Any]:
        """What would be sent for ``envelope``, without sending it."""
        ...

    async def deliver(self, envelope: Envelope, stopping: asyncio.Event) -> None:
        """Send ``envelope``; raise per ``polestar.errors`` (``DeliveryFailed`` to retry...)."""
        ...


class ConnectorDelivery:
    """Maps, encodes and delivers to an outbound connector, through an optional circuit breaker.

    While the breaker is open the delivery waits for it to half-open (the
    runner's heartbeat keeps the message's lease, and no attempt is used up);
    only when the route is stopping does it give up with ``CircuitOpen``.
    """

    def __init__(
        self,
        config: ConnectorOutput,
        *,
        connector: OutboundConnector | None,
        mapping: Callable[[], OutboundMapping] | None,
        record_format: RecordFormat,
        codec: CodecOptions = DEFAULT_OPTIONS,
        breaker: CircuitBreaker | None = None,
        counters: Counters | None = None,
        on_delivered: DeliveryRecorder | None = None,
    ) -> None:
        self.config = config
        self.name = config.output_name
        self.connector = connector
        self.mapping = mapping
        """Finds the mapping on each call, so a reloaded mapping applies at once."""
        self.format = record_format
        self.codec = codec
        self.breaker = breaker
        self.counters = counters or Counters()
        self.on_delivered = on_delivered
        """Told of each delivered message (the runtime sets it; default: nobody)."""
        self.gate: DeliveryGate | None = None
        """Asked before each delivery (the runtime sets it; default: nothing is checked)."""

    def describe(self) -> str:
        """Where it sends."""
        return f"connector {self.config.connector}"

    def message(self, envelope: Envelope) -> OutboundMessage:
        """The message for the connector: the mapped record, encoded in the system's format."""
        record = self.mapping().from_canonical(envelope) if self.mapping is not None else envelope.data
        try:
            body = encode_record(record, self.format, self.codec)
        except (ValueError, TypeError) as exc:
            raise MappingFailed(
                f"cannot encode as {self.format.value}: {exc}", where=f"event {envelope.id}"
            ) from None
        return OutboundMessage(
            envelope=envelope,
            body=body,
            content_type=CONTENT_TYPES[self.format],
            headers=dict(self.config.headers),
            target=self.config.target,
        )

    def preview(self, envelope: Envelope) -> dict[str, Any]:
        """The connector, target, content type, headers and body that would be delivered."""
        message = self.message(envelope)
        return {
            "connector": self.config.connector,
            "target": message.target,
            "content_type": message.content_type,
            "idempotency_key": message.idempotency_key,
            "headers": dict(message.headers),
            "body": _text(message.body),
        }

    async def deliver(self, envelope: Envelope, stopping: asyncio.Event) -> None:
        """Deliver, counting on the connector's counters."""
        if self.connector is None:
            raise DeliveryFailed(f"connector {self.config.connector} is not running")
        if self.gate is not None:
            envelope = await self.gate(self.config.connector, self.config.target, envelope)
        message = self.message(envelope)
        connector = self.connector
        try:
            if self.breaker is None:
                await connector.deliver(message)
            else:
                await self._through_breaker(self.breaker, connector, message, stopping)
        except Exception as exc:
            self.counters.fail(f"{type(exc).__name__}: {exc}")
            raise
        self.counters.delivered += 1
        if self.on_delivered is not None:
            await self.on_delivered(self.config.connector, message.target, envelope)

    async def _through_breaker(
        self,
        breaker: CircuitBreaker,
        connector: OutboundConnector,
        message: OutboundMessage,
        stopping: asyncio.Event,
    ) -> None:
        while True:
            try:
                await breaker.call(lambda: connector.deliver(message))
            except CircuitOpen as exc:
                if stopping.is_set():
                    raise
                await _sleep_unless(stopping, exc.retry_after or 0.0)
            else:
                return


class SubjectPublish:
    """Publishes a new event, caused by the route's message, on a bus subject."""

    def __init__(self, config: SubjectOutput, *, route: str, bus: BusEngine | None) -> None:
        self.config = config
        self.name = config.output_name
        self.route = route
        self.bus = bus

    def describe(self) -> str:
        """Where it sends."""
        return f"subject {self.config.subject}"

    def event(self, envelope: Envelope) -> Envelope:
        """The event published: same payload, caused by ``envelope``, with a derived id."""
        return envelope.caused(
            id=derived_id(self.route, "to", self.config.subject, envelope.id),
            time=envelope.time,
            source=route_source(self.route),
            type=self.config.type or envelope.type,
            subject=envelope.subject,
            dataschema=envelope.dataschema,
            data=envelope.data,
        )

    def preview(self, envelope: Envelope) -> dict[str, Any]:
        """The subject and the event that would be published."""
        return {"subject": self.config.subject, "event": self.event(envelope).model_dump(mode="json")}

    async def deliver(self, envelope: Envelope, stopping: asyncio.Event) -> None:
        """Publish durably."""
        if self.bus is None:
            raise RuntimeError(f"output {self.name} has no bus: it was built for a preview")
        await self.bus.publish(self.event(envelope), subject=self.config.subject)


async def _sleep_unless(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=max(seconds, 0.01))


def _text(body: bytes) -> str | Mapping[str, str]:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return {"bytes": str(len(body))}
