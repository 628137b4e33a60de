"""The bus's ``OperatorActionSink``, writing every operator action into the audit log."""

from __future__ import annotations

from polestar.audit.entry import Actor, AuditEntry, Operation, Outcome
from polestar.audit.log import AuditLog
from polestar.bus.admin import ActionOutcome, OperatorAction

_OUTCOMES = {
    ActionOutcome.SUCCEEDED: Outcome.SUCCEEDED,
    ActionOutcome.NOT_FOUND: Outcome.NOT_FOUND,
    ActionOutcome.REFUSED: Outcome.REFUSED,
    ActionOutcome.FAILED: Outcome.FAILED,
}


def operator_entry(action: OperatorAction, service: str = "polestar-bus") -> AuditEntry:
    """The audit entry for one operator action: who, what, to which dead letter, why, how it ended."""
    record_ids = [r for r in (action.target, action.event_id) if r]
    details = {
        k: v
        for k, v in (
            ("action", action.action.value),
            ("group", action.group),
            ("event_type", action.event_type),
            ("detail", action.detail),
        )
        if v is not None
    }
    return AuditEntry(
        operation=Operation.OPERATOR_ACTION,
        actor=Actor.parse(action.actor),
        service=service,
        at=action.at,
        outcome=_OUTCOMES[action.outcome],
        purpose=action.reason,
        record_ids=record_ids,
        details=details,
    )


class AuditActionSink:
    """``OperatorActionSink`` for ``BusAdmin``: each action becomes one committed audit entry."""

    def __init__(self, log: AuditLog, *, service: str = "polestar-bus") -> None:
        self.log = log
        self.service = service

    async def __call__(self, action: OperatorAction) -> None:
        """Append ``action``; raising (the log is down) fails the operator's call, as the seam says."""
        await self.log.append(operator_entry(action, self.service))
