"""The store's s62 entries (collection, alteration, combination, erasure), promised in its own transaction.

The store calls ``StoreAudit.applied``, ``merged`` and ``erased`` inside the
transaction that writes the change (``polestar.store.intents``). Each records an
audit *intent* there (``polestar.audit.intents.record_intent``) under a key that
names the operation for good, and returns the append to run once the store has
committed. So:

* both commit or neither: a store write the log cannot promise is rolled back;
* a process killed after the commit leaves the intent, which the log appends when
  it next drains (on start, then every ``intent_interval``);
* the entry is written once, whoever appends it first; a redelivered event is a
  duplicate to the store and is not told at all;
* an erasure's entry (who erased which record ids when, never what was erased) is
  appended by a drain, after every entry promised before it, and destroys the
  subject's audit keys in the transaction that writes it (``AuditLog``): logged and
  done together, even if the hub dies after the store's commit.

This needs the store and the audit log in one database: the hub opens both on
``store_url`` (the SQLite file, or the PostgreSQL database and search path), so
an unqualified ``audit_intents`` on the store's connection is the log's table.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import Connection

from polestar.api.audit_component import HUB_SYSTEM, AuditComponent, AuditNotRunning, _actor, subjects_of
from polestar.audit import Actor, AuditEntry, LegalBasis, Operation, SubjectRef
from polestar.audit.intents import MAX_KEY_LENGTH, record_intent
from polestar.model.envelope import Envelope
from polestar.store.intents import AfterCommit
from polestar.store.records import ApplyResult, ErasureSummary, MergeRecord
from polestar.store.records import Outcome as StoreOutcome

log = logging.getLogger(__name__)

SERVICE = "polestar-store"
"""The service named in the store's entries."""


class StoreAudit:
    """The store's ``ApplyIntent`` and ``MergeIntent`` for the hub's audit component.

    Args:
        audit: the hub's audit component (its log must be open when the store writes).
    """

    def __init__(self, audit: AuditComponent) -> None:
        self.audit = audit

    def applied(self, conn: Connection, envelope: Envelope, result: ApplyResult) -> AfterCommit | None:
        """``ApplyIntent``: a record was created (collection) or changed (alteration)."""
        return self._promise(conn, applied_entry(envelope, result), apply_key(envelope, result))

    def merged(self, conn: Connection, record: MergeRecord) -> AfterCommit | None:
        """``MergeIntent``: records combined, or a combination undone."""
        return self._promise(conn, merge_entry(record), merge_key(record))

    def erased(self, conn: Connection, summary: ErasureSummary) -> AfterCommit | None:
        """``ErasureIntent``: a subject's records were erased (ids only; its keys go when it is written)."""
        return self._promise(conn, erasure_entry(summary), erasure_key(summary))

    def _promise(self, conn: Connection, entry: AuditEntry, key: str) -> AfterCommit | None:
        if not self.audit.enabled:
            return None
        audit_log = self.audit.log
        if audit_log is None:
            # Refused rather than promised: nothing would drain the intent until the log starts.
            raise AuditNotRunning(f"the audit log is not running ({self.audit.reason or 'not started'})")
        record_intent(conn, entry, key=key)

        async def append() -> None:
            try:
                if entry.operation is Operation.ERASURE:
                    # Through the drain: whatever was promised before the erasure is written first,
                    # under the keys the erasure then destroys.
                    await audit_log.drain_intents()
                else:
                    await audit_log.append(entry, key=key)
            except Exception:  # noqa: BLE001 - the intent is committed: the log's next drain appends it
                log.warning("audit entry %s is pending; the audit log appends it on its next drain", key)

        return append


def apply_key(envelope: Envelope, result: ApplyResult) -> str:
    """The intent key of an apply: the event, the record and what happened to it."""
    return _bounded(f"store:{envelope.id}:{result.entity_id}:{_apply_operation(result).value}")


def merge_key(record: MergeRecord) -> str:
    """The intent key of a merge or of its undoing (each happens once per merge id)."""
    return _bounded(f"store:{'unmerge' if record.unmerged_at is not None else 'merge'}:{record.id}")


def applied_entry(envelope: Envelope, result: ApplyResult) -> AuditEntry:
    """The collection (created) or alteration (updated) entry: field names only, never values."""
    details: dict[str, Any] = {"kind": result.kind, "version": result.version}
    if result.outcome is not StoreOutcome.CREATED:
        details["changed_fields"] = list(result.changed_fields)
    return AuditEntry(
        operation=_apply_operation(result),
        actor=_actor(envelope.actor, "system:polestar-store"),
        service=SERVICE,
        purpose=envelope.purpose,
        correlation_id=envelope.correlationid or envelope.id,
        subjects=[*subjects_of([envelope]), SubjectRef(type="POLESTAR", value=result.entity_id)],
        record_ids=[result.entity_id, f"event:{envelope.id}"],
        details=details,
    )


def merge_entry(record: MergeRecord) -> AuditEntry:
    """The combination entry of a merge, or of its undoing: both record ids, who, and why (encrypted)."""
    undone = record.unmerged_at is not None
    return AuditEntry(
        operation=Operation.COMBINATION,
        actor=Actor.parse((record.unmerged_by if undone else record.actor) or HUB_SYSTEM),
        service=SERVICE,
        at=record.unmerged_at or record.merged_at,
        subjects=[
            SubjectRef(type="POLESTAR", value=record.survivor_id),
            SubjectRef(type="POLESTAR", value=record.merged_id),
        ],
        record_ids=[record.survivor_id, record.merged_id, f"merge:{record.id}"],
        details={
            "action": "unmerge" if undone else "merge",
            "reason": record.unmerge_reason if undone else record.reason,
        },
    )


def erasure_key(summary: ErasureSummary) -> str:
    """The intent key of an erasure: the subject and the moment (a subject may be erased again later)."""
    return _bounded(f"store:erase:{summary.subject_id}:{summary.erased_at.isoformat()}")


def erasure_entry(summary: ErasureSummary) -> AuditEntry:
    """The erasure entry: who erased which record ids when, never the erased content nor the reason.

    The reason is free text a person typed about the subject: it stays with the erasure request.
    """
    return AuditEntry(
        operation=Operation.ERASURE,
        actor=Actor.parse(summary.actor),
        service=SERVICE,
        at=summary.erased_at,
        subjects=[SubjectRef(type="POLESTAR", value=summary.subject_id)],
        record_ids=list(summary.record_ids),
        legal_basis=LegalBasis.DATA_SUBJECT_RIGHTS,
    )


def _apply_operation(result: ApplyResult) -> Operation:
    return Operation.COLLECTION if result.outcome is StoreOutcome.CREATED else Operation.ALTERATION


def _bounded(key: str) -> str:
    # Ids are free text from the sending system; a key too long for the column is hashed whole.
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return f"store:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
