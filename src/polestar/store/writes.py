"""Applying a canonical event: version check, provenance, current document, history, link projection.

All of it runs in the caller's transaction, together with the record that the
envelope id was applied, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, delete, func, select, update

from polestar.errors import ModelError
from polestar.model.common import Entity
from polestar.model.envelope import Envelope
from polestar.model.evolution import from_envelope
from polestar.model.links import Link
from polestar.store.errors import NotAnEntity
from polestar.store.intents import AfterCommit, ApplyIntent
from polestar.store.provenance import (
    Claim,
    ClaimChanges,
    changed_fields,
    claims_of,
    compose,
    reconcile,
    winners,
)
from polestar.store.records import ApplyResult, Operation, Outcome
from polestar.store.sqlbase import insert_ignore, lock_ids, utc
from polestar.store.tables import applied_messages, entities, entity_versions, field_provenance, links

_CHANGES = frozenset({Outcome.CREATED, Outcome.UPDATED})

# Built once: a statement object reused skips construction and keeps its cache key, which
# is most of what SQLAlchemy spends on a statement executed per event.
ENTITY_ROW = select(entities).where(entities.c.id == bindparam("entity_id"))
"""One entity's row by ``entity_id`` (the reads use it too)."""
_CLAIMS = select(field_provenance).where(field_provenance.c.entity_id == bindparam("entity_id"))
_DELETE_CLAIM = delete(field_provenance).where(
    field_provenance.c.entity_id == bindparam("entity_id"),
    field_provenance.c.path == bindparam("path"),
    field_provenance.c.system == bindparam("system"),
)
_LAST_SEQ = select(func.max(entity_versions.c.seq)).where(
    entity_versions.c.entity_id == bindparam("entity_id")
)
_OUTCOME = (
    update(applied_messages)
    .where(applied_messages.c.message_id == bindparam("message"))
    .values(outcome=bindparam("result"))
)
_UPDATE_ENTITY = update(entities).where(entities.c.id == bindparam("entity_id"))


def entity_of(envelope: Envelope) -> Entity:
    """The POLE entity an event carries, or ``NotAnEntity`` saying why it cannot be stored."""
    try:
        payload = from_envelope(envelope)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(data)'}: {e['msg']}" for e in exc.errors())
        raise NotAnEntity(f"event {envelope.id} carries invalid data: {problems}") from exc
    except (ModelError, ValueError) as exc:
        raise NotAnEntity(f"event {envelope.id}: {exc}") from exc
    if not isinstance(payload, Entity):
        raise NotAnEntity(
            f"event {envelope.id} carries a {type(payload).__name__}, not a POLE entity or link"
        )
    return payload


def load_claims(conn: Connection, entity_id: str) -> list[Claim]:
    """Every source's stored claims for one entity."""
    rows = conn.execute(_CLAIMS, {"entity_id": entity_id}).all()
    return [
        Claim(
            path=r.path,
            system=r.system,
            value=r.value,
            organisation=r.organisation,
            reference=r.reference,
            observed_at=utc(r.observed_at),
            recorded_at=utc(r.recorded_at),
            version=r.version,
            marking=r.marking,
            message_id=r.message_id,
        )
        for r in rows
    ]


def apply_event(
    conn: Connection, envelope: Envelope, entity: Entity, *, priority: Mapping[str, int], now: datetime
) -> ApplyResult:
    """Apply ``entity`` (carried by ``envelope``) in the caller's transaction."""
    kind = entity.schema_name
    fresh = insert_ignore(
        conn, applied_messages, {"message_id": envelope.id, "applied_at": now, "outcome": "pending"}
    )
    if not fresh:
        return ApplyResult(Outcome.DUPLICATE, entity.id, kind, entity.version)
    ends = (entity.from_ref.id, entity.to_ref.id) if isinstance(entity, Link) else ()
    lock_ids(conn, (entity.id, *ends))
    row = conn.execute(ENTITY_ROW, {"entity_id": entity.id}).first()
    if row is not None and row.kind != kind:
        raise NotAnEntity(f"event {envelope.id} carries a {kind} with id {entity.id}, which is a {row.kind}")
    stored = load_claims(conn, entity.id) if row is not None else []
    changes = reconcile(stored, claims_of(entity, envelope.id), entity.provenance.system, entity.version)
    _write_claims(conn, entity.id, changes, {(c.path, c.system) for c in stored})
    if row is not None and entity.version < row.version:
        result = ApplyResult(Outcome.STALE, entity.id, kind, row.version)
    else:
        result = _write_current(
            conn, envelope, entity=entity, row=row, changes=changes, priority=priority, now=now
        )
    conn.execute(_OUTCOME, {"message": envelope.id, "result": result.outcome.value})
    return result


def apply_events(
    conn: Connection,
    events: Sequence[tuple[Envelope, Entity]],
    *,
    priority: Mapping[str, int],
    intent: ApplyIntent | None,
    now: datetime,
) -> tuple[list[ApplyResult], list[AfterCommit]]:
    """``apply_event`` for each, in order, in the caller's transaction; ``intent`` told of each change.

    Returns the results and what the intents asked to run once the transaction has committed.
    """
    results: list[ApplyResult] = []
    afters: list[AfterCommit] = []
    for envelope, entity in events:
        result = apply_event(conn, envelope, entity, priority=priority, now=now)
        results.append(result)
        if intent is not None and result.outcome in _CHANGES:
            after = intent(conn, envelope, result)
            if after is not None:
                afters.append(after)
    return results, afters


def _write_claims(
    conn: Connection, entity_id: str, changes: ClaimChanges, held: set[tuple[str, str]]
) -> None:
    fp = field_provenance
    # Only rows held before are deleted (a new record has none), all in one executemany.
    gone = [*changes.withdraw, *((c.path, c.system) for c in changes.upsert if (c.path, c.system) in held)]
    if gone:
        conn.execute(_DELETE_CLAIM, [{"entity_id": entity_id, "path": p, "system": s} for p, s in gone])
    if not changes.upsert:
        return
    conn.execute(
        fp.insert(),
        [
            {
                "entity_id": entity_id,
                "path": claim.path,
                "system": claim.system,
                "value": claim.value,
                "organisation": claim.organisation,
                "reference": claim.reference,
                "observed_at": claim.observed_at,
                "recorded_at": claim.recorded_at,
                "version": claim.version,
                "marking": claim.marking,
                "message_id": claim.message_id,
            }
            for claim in changes.upsert
        ],
    )


def _write_current(
    conn: Connection,
    envelope: Envelope,
    *,
    entity: Entity,
    row: Any,
    changes: ClaimChanges,
    priority: Mapping[str, int],
    now: datetime,
) -> ApplyResult:
    current = compose(entity, winners(changes.claims, priority))
    document = current.model_dump(mode="json", exclude_none=True)
    before: dict[str, Any] | None = None if row is None else row.document
    changed = changed_fields(before, document)
    kind = entity.schema_name
    if row is not None and entity.version == row.version and not changed:
        return ApplyResult(Outcome.UNCHANGED, entity.id, kind, row.version)
    values = {
        "version": current.version,
        "document": document,
        "marking": current.marking.label,
        "classification_rank": current.marking.classification.rank,
        "schema_version": current.schema_version,
        "updated_at": now,
    }
    if row is None:
        conn.execute(entities.insert(), {"id": entity.id, "kind": kind, "created_at": now, **values})
        operation = Operation.CREATED
    else:
        conn.execute(_UPDATE_ENTITY, {"entity_id": entity.id, **values})
        operation = Operation.UPDATED
    record_history(
        conn,
        entity.id,
        version=current.version,
        operation=operation,
        document=document,
        changed=changed,
        actor=envelope.actor or envelope.source,
        message_id=envelope.id,
        correlation_id=envelope.correlationid,
        reason=None,
        now=now,
    )
    if isinstance(current, Link):
        _project_link(conn, current)
    outcome = Outcome.CREATED if row is None else Outcome.UPDATED
    return ApplyResult(outcome, entity.id, kind, current.version, changed)


def record_history(
    conn: Connection,
    entity_id: str,
    *,
    version: int,
    operation: Operation,
    document: dict[str, Any],
    changed: tuple[str, ...],
    actor: str | None,
    message_id: str | None,
    correlation_id: str | None,
    reason: str | None,
    now: datetime,
) -> None:
    """Append one alteration to an entity's history."""
    last = conn.execute(_LAST_SEQ, {"entity_id": entity_id}).scalar()
    conn.execute(
        entity_versions.insert(),
        {
            "entity_id": entity_id,
            "seq": (last or 0) + 1,
            "version": version,
            "operation": operation.value,
            "document": document,
            "changed_fields": list(changed),
            "actor": actor,
            "message_id": message_id,
            "correlation_id": correlation_id,
            "reason": reason,
            "recorded_at": now,
        },
    )


def _project_link(conn: Connection, link: Link) -> None:
    conn.execute(delete(links).where(links.c.id == link.id))
    conn.execute(
        links.insert(),
        {
            "id": link.id,
            "role": link.role.value,
            "from_kind": link.from_ref.type.value,
            "from_id": link.from_ref.id,
            "to_kind": link.to_ref.type.value,
            "to_id": link.to_ref.id,
            "valid_from": link.valid_from,
            "valid_to": link.valid_to,
            "marking": link.marking.label,
            "classification_rank": link.marking.classification.rank,
            "system": link.provenance.system,
        },
    )
