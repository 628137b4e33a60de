"""The s62 entries a check leaves: the question as a consultation, the answer as a disclosure.

The officer asked (their identity and the device they used) with a stated
reason; the national system was consulted; what it said was disclosed to the
device. Subjects are the identifiers in the answer (PNC IDs, the VRM), so a
subject access request finds every check that touched a person.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from polestar.audit import Actor, AuditEntry, Operation, Outcome, SubjectRef
from polestar.devices.answers import PersonAnswer, VehicleAnswer
from polestar.errors import PolestarError

log = logging.getLogger(__name__)

AuditRecorder = Callable[[AuditEntry], Awaitable[None]]
"""Appends one entry to the audit log (``AuditComponent.record``)."""

SERVICE = "polestar-devices"


def check_subjects(pnc_ids: Sequence[str | None], vrm: str | None = None) -> list[SubjectRef]:
    """The people and vehicle a check touched, as typed identifiers."""
    subjects = [SubjectRef(type="PNC", value=p) for p in pnc_ids if p]
    if vrm:
        subjects.append(SubjectRef(type="VRM", value=vrm))
    return subjects


def consultation(
    *,
    officer: str,
    device: str,
    system: str,
    purpose: str,
    query: str,
    correlation_id: str,
    subjects: list[SubjectRef],
    outcome: Outcome,
    record_ids: Sequence[str] = (),
    details: dict[str, object] | None = None,
) -> AuditEntry:
    """The officer consulted ``system`` from ``device`` for ``purpose``."""
    return AuditEntry(
        operation=Operation.CONSULTATION,
        actor=Actor(person=f"user:{officer}", device=f"device:{device}"),
        service=system,
        outcome=outcome,
        purpose=purpose,
        correlation_id=correlation_id,
        subjects=subjects,
        query=query,
        record_ids=list(record_ids),
        details=dict(details or {}),
    )


def disclosure(
    *,
    officer: str,
    device: str,
    system: str,
    purpose: str,
    correlation_id: str,
    subjects: list[SubjectRef],
    record_ids: Sequence[str],
    details: dict[str, object] | None = None,
) -> AuditEntry:
    """The hub disclosed ``system``'s answer to ``device`` (used by ``officer``)."""
    return AuditEntry(
        operation=Operation.DISCLOSURE,
        actor=Actor(system="system:polestar"),
        service=SERVICE,
        on_behalf_of=f"user:{officer}",
        purpose=purpose,
        correlation_id=correlation_id,
        subjects=subjects,
        recipients=[f"device:{device}", f"user:{officer}"],
        record_ids=list(record_ids),
        details={"source": system, **(details or {})},
    )


class AnswerNotAudited(PolestarError):  # noqa: N818 - reads as what the officer is told
    """The audit log could not record a check, so its answer is withheld."""


class CheckAudit:
    """Records one check: a consultation with the stated purpose, then a disclosure to the device."""

    def __init__(
        self,
        record: AuditRecorder | None,
        *,
        officer: str,
        device: str,
        system: str,
        purpose: str,
        correlation: str,
    ) -> None:
        self.record, self.officer, self.device = record, officer, device
        self.system, self.purpose, self.correlation = system, purpose, correlation

    async def failed(self, query: str, reason: str) -> None:
        """The check was asked but not answered (the system down or refusing)."""
        if self.record is None:
            return
        entry = consultation(
            officer=self.officer,
            device=self.device,
            system=self.system,
            purpose=self.purpose,
            query=query,
            correlation_id=self.correlation,
            subjects=[],
            outcome=Outcome.FAILED,
            details={"reason": reason[:500]},
        )
        try:
            await self.record(entry)
        except Exception:
            # The check already failed and says why; a lost failure record must not hide that.
            log.exception("could not audit a failed check")

    async def answered(self, query: str, answer: PersonAnswer | VehicleAnswer, *, vrm: str | None) -> None:
        """The system answered; ``AnswerNotAudited`` when that cannot be recorded."""
        if self.record is None:
            return
        if isinstance(answer, PersonAnswer):
            subjects = check_subjects([p.pnc_id for p in answer.people])
        else:
            keeper = answer.vehicle.keeper if answer.vehicle else None
            subjects = check_subjects([keeper.pnc_id if keeper else None], vrm)
        records = [f"{answer.source}:{answer.transaction}"] if answer.transaction else []
        details: dict[str, object] = {"matches": answer.matches}
        try:
            await self.record(
                consultation(
                    officer=self.officer,
                    device=self.device,
                    system=self.system,
                    purpose=self.purpose,
                    query=query,
                    correlation_id=self.correlation,
                    subjects=subjects,
                    outcome=Outcome.SUCCEEDED if answer.matches else Outcome.NOT_FOUND,
                    record_ids=records,
                    details=details,
                )
            )
            await self.record(
                disclosure(
                    officer=self.officer,
                    device=self.device,
                    system=self.system,
                    purpose=self.purpose,
                    correlation_id=self.correlation,
                    subjects=subjects,
                    record_ids=records,
                    details=details,
                )
            )
        except Exception as exc:
            # Lawful by construction: an answer that cannot be audited is not disclosed.
            log.exception("could not audit a check; its answer is withheld")
            raise AnswerNotAudited(
                f"the answer is withheld: the audit log could not record it ({exc})"
            ) from exc
