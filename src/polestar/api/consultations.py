"""Searches and record reads as s62 consultations: the audit log's side of ``search.api.ConsultationLog``.

Before a search runs, the audit policy is asked whether a purpose is required;
a search without one is refused (400) and the refusal recorded. After it runs,
the consultation is recorded with who asked, the stated purpose, the query
(encrypted under the subjects' keys) and every record shown, each as a
``POLESTAR`` subject, before anything is returned: if the log cannot record
it, the results are withheld (503).
"""

from pydantic import ValidationError

from polestar.api.audit_component import MAX_SUBJECTS, AuditComponent
from polestar.audit import Actor, AuditEntry, AuditError, Operation, Outcome, PurposeRequired, SubjectRef
from polestar.search.api import Consultation
from polestar.search.errors import ConsultationRefused, ConsultationUnrecorded


class AuditedConsultations:
    """``ConsultationLog`` writing to the hub's audit log.

    Args:
        audit: the hub's audit component (recording nothing when ``audit.enabled`` is off).
        service: the service named in the entries.
    """

    def __init__(self, audit: AuditComponent, *, service: str = "polestar-search") -> None:
        self.audit = audit
        self.service = service

    async def before(self, consultation: Consultation) -> None:
        """Refuse (and record the refusal) when policy requires a purpose and none was stated."""
        if not self.audit.enabled:
            return
        try:
            self.audit.policy.check(Operation.CONSULTATION, consultation.purpose)
        except PurposeRequired:
            await self._record(consultation, Outcome.REFUSED)
            raise ConsultationRefused(
                "a search shows personal data: state why in the X-Polestar-Purpose header "
                "(the audit policy requires a purpose for every consultation)"
            ) from None

    async def after(self, consultation: Consultation) -> None:
        """Record the consultation with the records shown."""
        if self.audit.enabled:
            await self._record(consultation, Outcome.SUCCEEDED)

    async def _record(self, consultation: Consultation, outcome: Outcome) -> None:
        subjects: list[SubjectRef] = []
        for record_id in consultation.record_ids[:MAX_SUBJECTS]:
            try:
                subjects.append(SubjectRef(type="POLESTAR", value=record_id))
            except ValidationError:
                continue  # an id the log cannot index as a subject is still in record_ids
        try:
            await self.audit.record(
                AuditEntry(
                    operation=Operation.CONSULTATION,
                    actor=Actor.parse(consultation.actor),
                    service=self.service,
                    outcome=outcome,
                    purpose=consultation.purpose,
                    subjects=subjects,
                    query=consultation.query,
                    record_ids=list(consultation.record_ids),
                    details=dict(consultation.details),
                )
            )
        except (AuditError, ValidationError) as exc:
            raise ConsultationUnrecorded(
                f"the audit log could not record the search, so nothing is shown: {exc}"
            ) from None
