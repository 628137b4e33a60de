"""Hypothesis strategies for Events, links, and every entity by schema name (see ``testing``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from polestar.model import codes, event_codes
from polestar.model._testing_entities import (
    _opt,
    documents,
    drugs,
    locations,
    persons,
    phones,
    property_items,
    vehicles,
    weapons,
)
from polestar.model._testing_values import (
    code,
    codes_tuple,
    emails,
    entity_base,
    officers,
    references,
    texts,
    times,
    utc_times,
)
from polestar.model.common import Entity
from polestar.model.crimes import Arrest, Crime
from polestar.model.custody import CustodyEpisode
from polestar.model.encounters import StopSearch, UseOfForce
from polestar.model.event_codes import CustodyReviewKind, IncidentStatus
from polestar.model.incidents import INCIDENT_TRANSITIONS, Call, Incident
from polestar.model.links import ROLE_ENDS, Link, LinkRole
from polestar.model.statements import IntelligenceReport, WitnessStatement

D = dict[str, Any]


@st.composite
def calls(draw: st.DrawFn) -> Call:
    """A valid call for service."""
    return Call.model_validate(
        {
            **draw(entity_base()),
            "reference": draw(references()),
            "channel": draw(code(event_codes.CallChannel)),
            "received_at": draw(times()),
            "summary": draw(texts()),
            "crime_indicators": draw(codes_tuple(event_codes.CrimeIndicator)),
        }
    )


@st.composite
def incidents(draw: st.DrawFn) -> Incident:
    """A valid incident that has walked a random path through its lifecycle."""
    incident = Incident.model_validate(
        {
            **draw(entity_base()),
            "reference": draw(references()),
            "opened_at": draw(times()),
            "summary": draw(texts()),
        }
    )
    for _ in range(draw(st.integers(0, 6))):
        choices = sorted(INCIDENT_TRANSITIONS[incident.status])
        if not choices:
            break
        new = IncidentStatus(draw(st.sampled_from(choices)))
        at = incident.opened_at + timedelta(minutes=10 * (len(incident.history) + 1))
        grade = draw(code(event_codes.IncidentGrade)) if new is IncidentStatus.GRADED else None
        unit = "CX21" if new is IncidentStatus.ASSIGNED else None
        incident = incident.with_status(
            new, at, unit=unit, grade=event_codes.IncidentGrade(grade) if grade else None
        )
    return incident


@st.composite
def crimes(draw: st.DrawFn) -> Crime:
    """A valid crime report in any status."""
    reported = draw(utc_times())
    status = draw(code(event_codes.CrimeStatus))
    recorded = status in {"recorded", "finalised"}
    return Crime.model_validate(
        {
            **draw(entity_base()),
            "status": status,
            "crime_reference": draw(references()) if recorded else None,
            "offence_codes": draw(
                st.lists(st.sampled_from(["008/01", "034/01", "105/01"]), min_size=int(recorded))
            ),
            "committed_from": reported - timedelta(hours=draw(st.integers(0, 48))),
            "reported_at": reported,
            "summary": draw(texts()),
            "outcome_type": draw(st.integers(1, 22)) if status == "finalised" else None,
        }
    )


@st.composite
def arrests(draw: st.DrawFn) -> Arrest:
    """A valid arrest without warrant."""
    return Arrest.model_validate(
        {
            **draw(entity_base()),
            "arrested_at": draw(times()),
            "offence_description": draw(texts()),
            "grounds": draw(texts()),
            "necessity": draw(codes_tuple(event_codes.ArrestNecessity, min_size=1)),
            "officer": draw(_opt(officers())),
        }
    )


@st.composite
def custody_episodes(draw: st.DrawFn) -> CustodyEpisode:
    """A valid custody episode, open or closed, with a review and maybe an extension."""
    arrived = draw(utc_times())
    authorised = arrived + timedelta(minutes=draw(st.integers(5, 60)))
    reviews: list[D] = []
    if draw(st.booleans()):
        reviews.append(
            {
                "kind": "inspector-review",
                "conducted_at": authorised + timedelta(hours=5),
                "outcome": "continued",
            }
        )
        if draw(st.booleans()):
            reviews.append(
                {
                    "kind": CustodyReviewKind.SUPERINTENDENT_EXTENSION.value,
                    "conducted_at": arrived + timedelta(hours=20),
                    "outcome": "extended",
                    "extended_to": arrived + timedelta(hours=36),
                }
            )
    released = draw(st.booleans())
    return CustodyEpisode.model_validate(
        {
            **draw(entity_base()),
            "custody_record_number": draw(references()),
            "custody_suite": draw(texts(20)),
            "arrived_at": arrived,
            "relevant_time": arrived,
            "detention_authorised_at": authorised,
            "reviews": reviews,
            "released_at": arrived + timedelta(hours=30) if released else None,
            "outcome": draw(code(event_codes.CustodyOutcome)) if released else None,
        }
    )


@st.composite
def stop_searches(draw: st.DrawFn) -> StopSearch:
    """A valid stop and search under any power."""
    power = event_codes.SearchPower(draw(code(event_codes.SearchPower)))
    return StopSearch.model_validate(
        {
            **draw(entity_base()),
            "searched_at": draw(times()),
            "subject": draw(code(event_codes.SearchSubject)),
            "power": power,
            "object_of_search": draw(codes_tuple(event_codes.SearchObject, min_size=1)),
            "grounds": draw(texts()) if not power.needs_authorisation else None,
            "authorisation_reference": draw(references()) if power.needs_authorisation else None,
            "officer": draw(officers()),
            "outcome": draw(code(event_codes.SearchOutcome)),
            "force_used": draw(st.booleans()),
            "self_defined_ethnicity": draw(_opt(code(codes.SelfDefinedEthnicity))),
            "copy_requested_email": draw(_opt(emails())),
        }
    )


@st.composite
def uses_of_force(draw: st.DrawFn) -> UseOfForce:
    """A valid use of force."""
    injured = draw(st.booleans())
    return UseOfForce.model_validate(
        {
            **draw(entity_base()),
            "occurred_at": draw(times()),
            "officer": draw(officers()),
            "tactics": draw(codes_tuple(event_codes.ForceTactic, min_size=1)),
            "reasons": draw(codes_tuple(event_codes.ForceReason, min_size=1)),
            "narrative": draw(texts()),
            "subject_injured": injured,
            "injury_details": draw(texts()) if injured else None,
        }
    )


@st.composite
def intelligence_reports(draw: st.DrawFn) -> IntelligenceReport:
    """A valid 3x5x2-graded intelligence report."""
    handling = draw(code(event_codes.HandlingCode))
    return IntelligenceReport.model_validate(
        {
            **draw(entity_base()),
            "reference": draw(references()),
            "submitted_at": draw(times()),
            "source_evaluation": draw(code(event_codes.SourceEvaluation)),
            "intelligence_assessment": draw(code(event_codes.IntelligenceAssessment)),
            "handling_code": handling,
            "handling_conditions": draw(texts()) if handling == "C" else None,
            "text": draw(texts(200)),
        }
    )


@st.composite
def witness_statements(draw: st.DrawFn) -> WitnessStatement:
    """A valid MG11 witness statement, signed or not."""
    made = draw(utc_times())
    signed, adult = draw(st.booleans()), draw(st.booleans())
    return WitnessStatement.model_validate(
        {
            **draw(entity_base()),
            "statement_made_at": made,
            "witness_over_18": adult,
            "witness_age": None if adult else draw(st.integers(5, 17)),
            "text": draw(texts(500)),
            "signed": signed,
            "signed_at": made + timedelta(minutes=30) if signed else None,
        }
    )


@st.composite
def links(draw: st.DrawFn) -> Link:
    """A valid link whose ends fit its role."""
    role = draw(st.sampled_from(list(LinkRole)))
    allowed_from, allowed_to = ROLE_ENDS.get(role, (None, None))
    every = sorted(codes.EntityType)
    from_type = draw(st.sampled_from(sorted(allowed_from or every)))
    to_type = draw(st.sampled_from(sorted(allowed_to or every)))
    start = draw(_opt(utc_times()))
    return Link.model_validate(
        {
            **draw(entity_base()),
            "role": role,
            "from_ref": {"type": from_type, "id": draw(st.uuids().map(str))},
            "to_ref": {"type": to_type, "id": draw(st.uuids().map(str))},
            "valid_from": start,
            "valid_to": None if start is None else start + timedelta(days=draw(st.integers(0, 400))),
        }
    )


ENTITY_STRATEGIES: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    "person": persons,
    "vehicle": vehicles,
    "phone": phones,
    "weapon": weapons,
    "drug": drugs,
    "property-item": property_items,
    "document": documents,
    "location": locations,
    "call": calls,
    "incident": incidents,
    "crime": crimes,
    "arrest": arrests,
    "custody-episode": custody_episodes,
    "stop-search": stop_searches,
    "use-of-force": uses_of_force,
    "intelligence-report": intelligence_reports,
    "witness-statement": witness_statements,
    "link": links,
}
"""A strategy for every entity schema, by schema name."""


def entities() -> st.SearchStrategy[Entity]:
    """Any valid entity or link."""
    return st.one_of([make() for make in ENTITY_STRATEGIES.values()])
