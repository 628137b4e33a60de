"""The hub's side of inbound: decode a system's message, map each record, publish durably.

``BusIngest`` is the ``Ingest`` the hub hands one inbound connector. For each
``RawMessage`` it

1. picks the format: the connector's own (``ConnectorSpec.format``), or
   CloudEvents when the body says it is one and the connector takes them;
2. decodes the body into records (``polestar.connectors.codecs``);
3. runs the connector's inbound mapping on each record, with a
   ``MappingContext`` whose ``where`` names the record (``custody.csv:17``);
   a ``MappingFailed`` becomes a ``Rejection`` naming the field and reason;
4. publishes every accepted envelope with ``bus.publish_many`` in chunks and
   returns only when all are durable.

Re-ingesting the same message (a file resumed after a crash, an HTTP retry)
publishes nothing twice *as long as the mapping derives event ids from the
record* (see ``stable_event_id``): the bus drops a repeated id inside its
dedupe window. CloudEvents posted by a system skip the mapping; they are
validated as ``Envelope`` and keep their own ids.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import ValidationError

from polestar.bus.contract import BusEngine, PublishAck
from polestar.connectors.codecs import (
    DecodedRecord,
    RecordFormat,
    decode,
    format_for_media_type,
    media_type,
    media_types_for,
)
from polestar.connectors.contract import IngestResult, RawMessage, Rejection
from polestar.connectors.spec import ConnectorSpec
from polestar.errors import InboundRefused, MappingFailed, ModelError, PublishRefused
from polestar.mapping.contract import InboundMapping, MappingContext
from polestar.model.envelope import Envelope

QUARANTINED_TYPE = "connector.message.quarantined"
QUARANTINE_SUBJECT_PREFIX = "quarantine"
EVENT_ID_NAMESPACE = uuid.UUID("4f1d4b3e-5c1a-4d7e-9a51-6b0c2f6e1a90")

MappingLookup = Callable[[str], InboundMapping]
"""Finds an inbound mapping by name (raising ``KeyError`` if there is none); called per message."""

logger = logging.getLogger(__name__)


class UnsupportedContentType(InboundRefused):
    """The content type is not one this connector reads (HTTP answers 415)."""


CollectionRecorder = Callable[[str, Sequence[Envelope]], Awaitable[None]]
"""Told of the events one message brought in, once they are durable: ``(connector, envelopes)``.

The audit log's collection seam (DPA 2018 s62): the API passes one that appends a
``collection`` entry; raising fails the ingest, so the system retries and the bus
drops the repeated events while the collection is recorded.
"""


def stable_event_id(*parts: str) -> str:
    """A UUID derived from ``parts``: the same record always gets the same event id.

    Mappings use it so that re-ingesting a record (a resumed file, a retried
    request) is recognised by the bus as a repeat, e.g.
    ``stable_event_id("custody", record_number, "opened")``.
    """
    return str(uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(parts)))


class BusIngest:
    """The ``Ingest`` for one connector: decode by its format, map, publish on ``bus``.

    Args:
        bus: a started bus engine.
        mappings: looks up inbound mappings by name, so a reloaded mapping is used at once.
        spec: the connector's configuration (format, codec options, mapping, subject).
        chunk_size: envelopes per ``publish_many`` transaction.
        on_collected: told of each message's accepted events (default: nobody).
    """

    def __init__(
        self,
        bus: BusEngine,
        mappings: MappingLookup,
        spec: ConnectorSpec,
        *,
        chunk_size: int = 500,
        on_collected: CollectionRecorder | None = None,
    ) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.bus = bus
        self.mappings = mappings
        self.spec = spec
        self.chunk_size = chunk_size
        self.source = f"/connectors/{spec.name}"
        self.on_collected = on_collected

    def media_format(self, content_type: str) -> RecordFormat:
        """The format a message of ``content_type`` is read in; ``UnsupportedContentType`` if none.

        An empty or ``application/octet-stream`` type means the connector's own
        format (files and brokers often carry none).
        """
        bare = media_type(content_type)
        own = self.spec.format
        if bare in ("", "application/octet-stream"):
            return own
        named = format_for_media_type(bare)
        takes_events = own is RecordFormat.CLOUDEVENTS or self.spec.accept_cloudevents
        if named is RecordFormat.CLOUDEVENTS and takes_events:
            return RecordFormat.CLOUDEVENTS
        if own is RecordFormat.CLOUDEVENTS and named is RecordFormat.JSON:
            return RecordFormat.CLOUDEVENTS
        if named is not None and named is own:
            return own
        accepted = sorted(
            media_types_for(own) | (media_types_for(RecordFormat.CLOUDEVENTS) if takes_events else set())
        )
        raise UnsupportedContentType(
            f"content type {bare!r} is not accepted by connector {self.spec.name!r}; "
            f"send one of: {', '.join(accepted)}"
        )

    async def __call__(self, raw: RawMessage) -> IngestResult:
        """Decode, map and publish ``raw``; return when every accepted event is durable."""
        fmt = self.media_format(raw.content_type)
        decoded = decode(raw.body, fmt, where=raw.reference, options=self.spec.codec)
        rejected = list(decoded.rejected)
        envelopes: list[Envelope] = []
        unmapped: list[str] = []
        if fmt is RecordFormat.CLOUDEVENTS:
            for item in decoded.records:
                _as_events(item, envelopes, rejected)
        else:
            mapping = self._mapping()
            for item in decoded.records:
                before = (len(envelopes), len(rejected))
                self._map(mapping, raw, item, envelopes, rejected)
                if (len(envelopes), len(rejected)) == before:
                    unmapped.append(item.where)  # the mapping says this record is no event (ignore_when)
        if unmapped:
            # Visible to the operator: a mapping's conditions leaving records out is design, or a gap.
            logger.info(
                "connector %s: %d record(s) made no event under mapping %s: %s",
                self.spec.name,
                len(unmapped),
                self.spec.mapping.inbound,
                ", ".join(unmapped[:5]) + (" ..." if len(unmapped) > 5 else ""),
            )
        acks, refused = await self._publish(envelopes)
        rejected.extend(refused)
        accepted = [(env, ack) for env, ack in zip(envelopes, acks, strict=True) if ack is not None]
        if accepted and self.on_collected is not None:
            await self.on_collected(self.spec.name, [env for env, _ in accepted])
        return IngestResult(
            accepted=tuple(ack for _, ack in accepted),
            event_ids=tuple(env.id for env, _ in accepted),
            rejected=tuple(rejected),
            unmapped=tuple(unmapped),
        )

    def _mapping(self) -> InboundMapping:
        name = self.spec.mapping.inbound
        if name is None:
            raise InboundRefused(f"connector {self.spec.name!r} has no inbound mapping configured")
        try:
            return self.mappings(name)
        except KeyError:
            raise InboundRefused(
                f"connector {self.spec.name!r} names inbound mapping {name!r}, which is not loaded"
            ) from None

    def _map(
        self,
        mapping: InboundMapping,
        raw: RawMessage,
        item: DecodedRecord,
        envelopes: list[Envelope],
        rejected: list[Rejection],
    ) -> None:
        context = MappingContext(
            connector=raw.connector,
            source=self.source,
            where=item.where,
            received_at=raw.received_at,
            reference=raw.reference,
            headers=dict(raw.headers),
        )
        try:
            envelopes.extend(mapping.to_canonical(item.record, context))
        except MappingFailed as exc:
            rejected.append(Rejection(where=item.where, reason=exc.reason, field=exc.field, record=item.text))
        except (ValueError, ModelError) as exc:  # incl. pydantic ValidationError from an envelope built
            rejected.append(Rejection(where=item.where, reason=_reason(exc), record=item.text))

    async def _publish(
        self, envelopes: Sequence[Envelope]
    ) -> tuple[list[PublishAck | None], list[Rejection]]:
        acks: list[PublishAck | None] = []
        refused: list[Rejection] = []
        subject = self.spec.subject
        for start in range(0, len(envelopes), self.chunk_size):
            chunk = envelopes[start : start + self.chunk_size]
            try:
                acks.extend(await self.bus.publish_many([(env, subject) for env in chunk]))
            except PublishRefused:
                # One envelope spoils the transaction; find it and publish the rest.
                for env in chunk:
                    try:
                        acks.append(await self.bus.publish(env, subject=subject))
                    except PublishRefused as exc:
                        acks.append(None)
                        refused.append(
                            Rejection(where=f"event {env.id}", reason=f"the bus refused the event: {exc}")
                        )
        return acks, refused

    async def quarantine(self, raw: RawMessage, reason: str) -> None:
        """Publish ``raw`` whole (body in base64) on ``quarantine.<connector>`` for an operator."""
        digest = hashlib.sha256(raw.body).hexdigest()
        envelope = Envelope(
            id=stable_event_id(raw.connector, raw.reference, digest, "quarantined"),
            source=self.source,
            type=QUARANTINED_TYPE,
            subject=raw.reference[:256] or None,
            classification="OFFICIAL-SENSITIVE [PERSONAL]",
            data={
                "connector": raw.connector,
                "reference": raw.reference,
                "content_type": raw.content_type,
                "headers": dict(raw.headers),
                "received_at": raw.received_at.isoformat(),
                "reasons": [reason],
                "sha256": digest,
                "body_base64": base64.b64encode(raw.body).decode("ascii"),
            },
        )
        await self.bus.publish(envelope, subject=quarantine_subject(raw.connector))


def quarantine_subject(connector: str) -> str:
    """The subject a connector's quarantined messages are published on."""
    return f"{QUARANTINE_SUBJECT_PREFIX}.{connector}"


def _as_events(item: DecodedRecord, envelopes: list[Envelope], rejected: list[Rejection]) -> None:
    try:
        envelopes.append(Envelope.model_validate(item.record))
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        rejected.append(
            Rejection(
                where=item.where,
                reason=f"not a valid CloudEvent: {first['msg']}",
                field=field,
                record=item.text,
            )
        )


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(exc)


def describe_result(result: IngestResult) -> dict[str, Any]:
    """A JSON-ready summary of ``result`` (counts, event ids, rejections without the records)."""
    return {
        "accepted": len(result.event_ids),
        "event_ids": list(result.event_ids),
        "unmapped": list(result.unmapped),
        "rejected": [
            {"where": r.where, "reason": r.reason, **({"field": r.field} if r.field else {})}
            for r in result.rejected
        ],
    }


def rejection_json(rejection: Rejection) -> str:
    """A rejection as a JSON document, records included: what an error folder keeps."""
    return json.dumps(
        {
            "where": rejection.where,
            "field": rejection.field,
            "reason": rejection.reason,
            "record": rejection.record,
        },
        ensure_ascii=False,
        indent=2,
    )
