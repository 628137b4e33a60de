"""What a check leaves in the audit log, and that an answer the log cannot take is withheld."""

from __future__ import annotations

import pytest

from polestar.audit import AuditEntry, Operation, Outcome
from polestar.devices.answers import PersonAnswer, PersonRecord, Vehicle, VehicleAnswer
from polestar.devices.audit import AnswerNotAudited, CheckAudit


def _audit(recorded: list[AuditEntry]) -> CheckAudit:
    async def record(entry: AuditEntry) -> None:
        recorded.append(entry)

    return CheckAudit(
        record, officer="PC4471", device="TAB-0042", system="PNC", purpose="2: street check", correlation="c1"
    )


async def test_an_answer_is_a_consultation_by_the_officer_then_a_disclosure_to_the_device() -> None:
    recorded: list[AuditEntry] = []
    answer = PersonAnswer(
        source="pnc",
        transaction="PNC1",
        matches=1,
        people=[PersonRecord(pnc_id="2012/0052494Q")],
        wanted=False,
        missing=False,
    )
    await _audit(recorded).answered("person check PNCId=2012/0052494Q", answer, vrm=None)
    consulted, disclosed = recorded
    assert consulted.operation is Operation.CONSULTATION
    assert (consulted.actor.person, consulted.actor.device) == ("user:PC4471", "device:TAB-0042")
    assert consulted.purpose == disclosed.purpose == "2: street check"
    assert consulted.query == "person check PNCId=2012/0052494Q"
    assert disclosed.operation is Operation.DISCLOSURE
    assert disclosed.recipients == ["device:TAB-0042", "user:PC4471"]
    assert [s.value for s in disclosed.subjects] == ["2012/0052494Q"]
    assert consulted.correlation_id == disclosed.correlation_id == "c1"


async def test_a_vehicle_answer_names_the_vrm_and_the_keeper_as_subjects() -> None:
    recorded: list[AuditEntry] = []
    answer = VehicleAnswer(
        source="pnc",
        transaction="PNC2",
        matches=1,
        vehicle=Vehicle(vrm="AB12 CDE", keeper=PersonRecord(pnc_id="2012/0052494Q")),
        stolen=False,
    )
    await _audit(recorded).answered("vehicle check VRM=AB12CDE", answer, vrm="AB12CDE")
    assert [(s.type, s.value) for s in recorded[0].subjects] == [("PNC", "2012/0052494Q"), ("VRM", "AB12CDE")]


async def test_no_match_is_a_consultation_that_found_nothing() -> None:
    recorded: list[AuditEntry] = []
    answer = PersonAnswer(source="pnc", transaction="PNC3", matches=0, wanted=False, missing=False)
    await _audit(recorded).answered("person check", answer, vrm=None)
    assert recorded[0].outcome is Outcome.NOT_FOUND


async def test_an_answer_the_audit_log_cannot_record_is_withheld() -> None:
    async def broken(entry: AuditEntry) -> None:
        raise OSError("disk full")

    audit = CheckAudit(
        broken, officer="PC4471", device="TAB-0042", system="PNC", purpose="2: street check", correlation="c1"
    )
    answer = PersonAnswer(source="pnc", transaction="PNC4", matches=0, wanted=False, missing=False)
    with pytest.raises(AnswerNotAudited, match="withheld"):
        await audit.answered("person check", answer, vrm=None)


async def test_a_failed_check_is_recorded_but_a_broken_log_does_not_hide_the_failure() -> None:
    recorded: list[AuditEntry] = []
    await _audit(recorded).failed("person check", "PNC unavailable: HTTP 503")
    assert recorded[0].outcome is Outcome.FAILED

    async def broken(entry: AuditEntry) -> None:
        raise OSError("disk full")

    audit = CheckAudit(broken, officer="PC1", device="TAB-1", system="PNC", purpose="2", correlation="c2")
    await audit.failed("person check", "PNC unavailable")  # logged, not raised
