"""From canonical data to a validated envelope, with every failure named as a canonical field."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC
from typing import Any

from pydantic import ValidationError

from polestar.errors import MappingFailed, ModelError
from polestar.mapping.contract import MappingContext
from polestar.model.common import Entity
from polestar.model.envelope import Envelope
from polestar.model.evolution import to_envelope

EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:polestar:mapped-event")
"""The uuid5 namespace of mapped event ids; fixed forever, or re-ingest would stop being idempotent."""


def mapped_event_id(connector: str, type: str, output: str, entity: Entity) -> str:  # noqa: A002
    """The same record mapped again gets the same event id, so the bus drops the repeat.

    The id covers the entity's content but not ``provenance.recorded_at`` (the
    moment the hub received it, which differs on a re-ingest); a record whose
    content changed is a new event and is never mistaken for a repeat.
    """
    content = entity.model_dump(mode="json", exclude={"provenance": {"recorded_at"}})
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return str(uuid.uuid5(EVENT_NAMESPACE, "\x1f".join((connector, type, output, digest))))


def dotted(location: tuple[int | str, ...]) -> str:
    """A pydantic error location as a field path: ``identifiers[0].value``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validation_failure(exc: ValidationError, prefix: str) -> MappingFailed:
    """``MappingFailed`` naming the first invalid field under ``prefix``, counting the others."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    field = ".".join(p for p in (prefix, dotted(first["loc"])) if p)
    reason = first["msg"]
    if len(errors) > 1:
        others = ", ".join(dotted(e["loc"]) or "(the whole value)" for e in errors[1:4])
        reason += f" (and {len(errors) - 1} more: {others})"
    return MappingFailed(reason, field=field)


def build_event(
    model: type[Entity],
    data: dict[str, Any],
    *,
    output: str,
    type: str,  # noqa: A002 - the CloudEvents attribute's name
    context: MappingContext,
    classification: str | None = None,
    subject: Any = None,
    partitionkey: Any = None,
    time: Any = None,
) -> Envelope:
    """Validate ``data`` as ``model`` and put it in an envelope; ``MappingFailed`` names what is wrong.

    ``classification`` marks the entity too unless ``data`` carries its own
    ``marking``; ``provenance.recorded_at`` defaults to when the record was received.
    """
    data = dict(data)
    if classification is not None and "marking" not in data:
        data["marking"] = classification
    provenance = data.get("provenance")
    if isinstance(provenance, dict) and "recorded_at" not in provenance:
        data["provenance"] = {**provenance, "recorded_at": context.received_at.astimezone(UTC).isoformat()}
    try:
        entity = model.model_validate(data)
    except ValidationError as exc:
        raise validation_failure(exc, output) from None
    attributes: dict[str, Any] = {
        "id": mapped_event_id(context.connector, type, output, entity),
        "time": time if time is not None else context.received_at,
    }
    for name, value in (
        ("subject", subject),
        ("partitionkey", partitionkey),
        ("correlationid", context.correlationid),
        ("actor", context.actor),
    ):
        if value is not None:
            attributes[name] = value if isinstance(value, str) else str(value)
    if classification is not None:
        attributes["classification"] = classification
    try:
        return to_envelope(entity, type=type, source=context.source, **attributes)
    except ValidationError as exc:
        raise validation_failure(exc, output) from None
    except (ModelError, ValueError) as exc:
        raise MappingFailed(str(exc), field=f"{output}.classification") from None
