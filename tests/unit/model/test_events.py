from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from polestar.errors import ModelError
from polestar.model import (
    INCIDENT_TRANSITIONS,
    Crime,
    CustodyEpisode,
    Incident,
    IncidentGrade,
    IncidentStatus,
    IntelligenceReport,
    StopSearch,
    UseOfForce,
    WitnessStatement,
    can_transition,
)

PROVENANCE = {"organisation": "01", "system": "cad", "recorded_at": "2026-11-23T21:00:00Z"}
T0 = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
S = IncidentStatus


def new_incident() -> Incident:
    return Incident.model_validate(
        {"provenance": PROVENANCE, "reference": "INC-0311", "opened_at": T0, "summary": "knife seen, Strand"}
    )


def test_an_incident_walks_its_lifecycle_to_closed():
    incident = new_incident()
    steps = [S.GRADED, S.ASSIGNED, S.EN_ROUTE, S.ON_SCENE, S.CLEARED, S.CLOSED]
    for minutes, status in enumerate(steps, start=1):
        incident = incident.with_status(
            status, T0 + timedelta(minutes=minutes), unit="CX21", grade=IncidentGrade.IMMEDIATE
        )
    assert incident.status is S.CLOSED
    assert [h.status for h in incident.history] == steps
    assert incident.version == 1 + len(steps)
    assert incident.assigned_units == ()


def test_an_invalid_transition_is_refused_by_the_helper():
    incident = new_incident()
    with pytest.raises(ModelError, match="cannot move from 'created' to 'on-scene'"):
        incident.with_status(S.ON_SCENE, T0)


def test_closed_is_final():
    closed = new_incident().with_status(S.CLOSED, T0 + timedelta(minutes=1))
    assert INCIDENT_TRANSITIONS[S.CLOSED] == frozenset()
    with pytest.raises(ModelError, match="allowed: none"):
        closed.with_status(S.GRADED, T0 + timedelta(minutes=2), grade=IncidentGrade.PRIORITY)


def test_resolution_without_deployment_closes_from_graded():
    incident = new_incident().with_status(S.GRADED, T0, grade=IncidentGrade.RESOLUTION_WITHOUT_DEPLOYMENT)
    assert can_transition(incident.status, S.CLOSED)
    assert incident.with_status(S.CLOSED, T0 + timedelta(minutes=5)).status is S.CLOSED


def test_grading_needs_a_grade_and_time_cannot_go_backwards():
    with pytest.raises(ModelError, match="must have a grade"):
        new_incident().with_status(S.GRADED, T0)
    with pytest.raises(ModelError, match="out of order"):
        new_incident().with_status(S.GRADED, T0 - timedelta(minutes=1), grade=IncidentGrade.PRIORITY)


def test_a_history_that_skips_steps_is_refused():
    with pytest.raises(ValidationError, match="from 'created' to 'on-scene'"):
        Incident.model_validate(
            {
                "provenance": PROVENANCE,
                "reference": "INC-0311",
                "opened_at": T0,
                "summary": "x",
                "grade": "priority",
                "status": "on-scene",
                "history": [{"status": "on-scene", "at": T0}],
            }
        )


def test_status_must_match_the_end_of_history():
    with pytest.raises(ValidationError, match="history ends at 'created'"):
        Incident.model_validate(
            {"provenance": PROVENANCE, "reference": "I1", "opened_at": T0, "summary": "x", "status": "graded"}
        )


def custody(**fields):
    base = {
        "provenance": PROVENANCE,
        "custody_record_number": "01CX/004512/26",
        "custody_suite": "Charing Cross",
        "arrived_at": T0,
        "relevant_time": T0,
        "detention_authorised_at": T0 + timedelta(minutes=18),
    }
    return CustodyEpisode.model_validate({**base, **fields})


def test_custody_clock_and_reviews():
    episode = custody()
    assert episode.detention_limit_at == T0 + timedelta(hours=24)
    assert episode.next_review_due_at == T0 + timedelta(minutes=18, hours=6)
    reviewed = custody(
        reviews=[
            {"kind": "inspector-review", "conducted_at": T0 + timedelta(hours=6), "outcome": "continued"},
            {
                "kind": "superintendent-extension",
                "conducted_at": T0 + timedelta(hours=20),
                "outcome": "extended",
                "extended_to": T0 + timedelta(hours=36),
            },
        ]
    )
    assert reviewed.detention_limit_at == T0 + timedelta(hours=36)
    assert reviewed.next_review_due_at == T0 + timedelta(hours=15)
    assert reviewed.in_custody


def test_a_superintendent_cannot_extend_past_36_hours():
    with pytest.raises(ValidationError, match="beyond 36 hours"):
        custody(
            reviews=[
                {
                    "kind": "superintendent-extension",
                    "conducted_at": T0 + timedelta(hours=20),
                    "outcome": "extended",
                    "extended_to": T0 + timedelta(hours=40),
                }
            ]
        )


def test_release_needs_an_outcome_and_comes_after_arrival():
    with pytest.raises(ValidationError, match="released_at and outcome"):
        custody(released_at=T0 + timedelta(hours=3))
    with pytest.raises(ValidationError, match="released_at is before arrived_at"):
        custody(released_at=T0 - timedelta(hours=3), outcome="no-further-action")
    released = custody(released_at=T0 + timedelta(hours=3), outcome="released-under-investigation")
    assert released.next_review_due_at is None
    assert not released.in_custody


def stop(**fields):
    base = {
        "provenance": PROVENANCE,
        "searched_at": T0,
        "subject": "person",
        "power": "misuse-of-drugs-s23",
        "object_of_search": ["controlled-drugs"],
        "grounds": "smell of cannabis",
        "officer": {"identifier": "PC1234", "force": "01"},
        "outcome": "no-further-action",
    }
    return StopSearch.model_validate({**base, **fields})


def test_stop_and_search_powers_need_grounds_or_authorisation():
    with pytest.raises(ValidationError, match="needs the grounds"):
        stop(grounds=None)
    with pytest.raises(ValidationError, match="needs an authorisation_reference"):
        stop(power="cjpoa-s60")
    assert stop(power="cjpoa-s60", grounds=None, authorisation_reference="S60-01-0113").grounds is None


def test_force_used_in_a_search_asks_for_a_use_of_force_record_and_a_copy_can_be_emailed():
    searched = stop(force_used=True, copy_requested_email="m.harris@example.org")
    assert searched.needs_use_of_force_record
    with pytest.raises(ValidationError, match="copy_requested_email"):
        stop(copy_requested_email="not-an-address")
    with pytest.raises(ValidationError, match="object_of_search"):
        stop(object_of_search=[])


def test_use_of_force_needs_injury_details_when_someone_was_hurt():
    base = {
        "provenance": PROVENANCE,
        "occurred_at": T0,
        "officer": {"identifier": "PC1234", "force": "01"},
        "tactics": ["handcuffing-non-compliant"],
        "reasons": ["effect-arrest"],
        "narrative": "resisted handcuffing",
    }
    with pytest.raises(ValidationError, match="injury_details"):
        UseOfForce.model_validate({**base, "subject_injured": True})
    assert UseOfForce.model_validate({**base, "subject_injured": True, "injury_details": "graze to wrist"})


def test_crime_reference_and_offence_codes_once_recorded():
    base = {"provenance": PROVENANCE, "reported_at": T0, "summary": "phone snatched"}
    draft = Crime.model_validate(base)
    assert draft.status.value == "draft"
    with pytest.raises(ValidationError, match="must have a crime_reference"):
        Crime.model_validate({**base, "status": "recorded", "offence_codes": ["34/1"]})
    recorded = Crime.model_validate(
        {**base, "status": "recorded", "crime_reference": "5201234/26", "offence_codes": ["34/1"]}
    )
    assert recorded.offence_codes == ("034/01",)
    with pytest.raises(ValidationError, match=r"offence_codes\.0"):
        Crime.model_validate({**base, "offence_codes": ["robbery"]})


def test_intelligence_grading_3x5x2():
    base = {
        "provenance": PROVENANCE,
        "reference": "IR-88213",
        "submitted_at": T0,
        "source_evaluation": "2",
        "intelligence_assessment": "B",
        "handling_code": "P",
        "text": "subject is dealing from a grey Ford Focus",
    }
    assert IntelligenceReport.model_validate(base).grading == "2/B/P"
    with pytest.raises(ValidationError, match="handling_conditions"):
        IntelligenceReport.model_validate({**base, "handling_code": "C"})
    with pytest.raises(ValidationError, match="intelligence_assessment"):
        IntelligenceReport.model_validate({**base, "intelligence_assessment": "F"})


def test_mg11_witness_statement_signature_and_declaration():
    base = {"provenance": PROVENANCE, "statement_made_at": T0, "witness_over_18": True, "text": "I saw..."}
    unsigned = WitnessStatement.model_validate(base)
    assert "true to the best of my knowledge and belief" in unsigned.declaration
    with pytest.raises(ValidationError, match="signed_at"):
        WitnessStatement.model_validate({**base, "signed": True})
    with pytest.raises(ValidationError, match="witness_age"):
        WitnessStatement.model_validate({**base, "witness_over_18": False})
