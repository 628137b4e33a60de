"""The catalogue of canonical event types: which types exist, and which schema each one carries.

``docs/event-types.md`` lists the same table and a test keeps the two equal.
Connectors may publish other types that follow the naming scheme; a catalogued
type, though, always carries its catalogued schema (see
:func:`polestar.model.evolution.to_envelope`).
"""

from __future__ import annotations

from dataclasses import dataclass

from polestar.model.envelope import check_event_type


@dataclass(frozen=True, slots=True)
class EventTypeSpec:
    """One canonical event type: its name, the schema of its data and what it means."""

    type: str
    schema: str
    description: str

    def __post_init__(self) -> None:
        check_event_type(self.type)


_SPECS = (
    EventTypeSpec("person.created", "person", "A person became known to the hub."),
    EventTypeSpec("person.updated", "person", "A person's details changed; data is the new version."),
    EventTypeSpec(
        "person.merged", "person", "Two records were found to be one person; data is the survivor."
    ),
    EventTypeSpec("vehicle.created", "vehicle", "A vehicle became known to the hub."),
    EventTypeSpec("vehicle.updated", "vehicle", "A vehicle's details changed."),
    EventTypeSpec("object.seized", "property-item", "An item of property was seized."),
    EventTypeSpec("phone.seized", "phone", "A phone was seized."),
    EventTypeSpec("weapon.seized", "weapon", "A weapon was seized."),
    EventTypeSpec("drug.seized", "drug", "Drugs were seized."),
    EventTypeSpec("document.seized", "document", "A document was seized or produced."),
    EventTypeSpec("location.created", "location", "A location became known to the hub."),
    EventTypeSpec("location.updated", "location", "A location's details changed."),
    EventTypeSpec("call.received", "call", "A call for service was answered."),
    EventTypeSpec("incident.created", "incident", "An incident was created in dispatch."),
    EventTypeSpec("incident.graded", "incident", "An incident was graded or regraded."),
    EventTypeSpec("incident.unit.assigned", "incident", "A unit was assigned to an incident."),
    EventTypeSpec(
        "incident.status.changed", "incident", "An incident's status changed (en route, on scene...)."
    ),
    EventTypeSpec(
        "incident.unit.status.reported",
        "unit-status-report",
        "A unit reported its status on an incident from its device (en route, on scene, cleared).",
    ),
    EventTypeSpec("incident.closed", "incident", "An incident was closed."),
    EventTypeSpec("crime.report.drafted", "crime", "A draft crime report was started, e.g. from a call."),
    EventTypeSpec("crime.report.submitted", "crime", "A crime report was submitted to crime recording."),
    EventTypeSpec(
        "crime.reference.assigned", "crime", "Crime recording gave the report its crime reference."
    ),
    EventTypeSpec("crime.outcome.assigned", "crime", "A crime was finalised with a Home Office outcome."),
    EventTypeSpec("arrest.recorded", "arrest", "An arrest was recorded."),
    EventTypeSpec(
        "custody.episode.opened", "custody-episode", "A detainee arrived and a custody record opened."
    ),
    EventTypeSpec(
        "custody.detention.authorised", "custody-episode", "The custody officer authorised detention."
    ),
    EventTypeSpec("custody.detention.reviewed", "custody-episode", "Detention was reviewed or extended."),
    EventTypeSpec(
        "custody.detainee.released", "custody-episode", "The detainee left custody, with an outcome."
    ),
    EventTypeSpec("stop-search.recorded", "stop-search", "A stop and search was recorded."),
    EventTypeSpec(
        "stop-search.copy.requested", "stop-search", "The person searched asked for a copy by email."
    ),
    EventTypeSpec("use-of-force.recorded", "use-of-force", "A use of force was recorded."),
    EventTypeSpec(
        "intelligence.report.submitted", "intelligence-report", "An intelligence report was submitted."
    ),
    EventTypeSpec("witness.statement.taken", "witness-statement", "A witness statement was taken."),
    EventTypeSpec("witness.statement.signed", "witness-statement", "A witness signed their statement."),
    EventTypeSpec("link.created", "link", "Two entities were linked with a role."),
    EventTypeSpec("link.ended", "link", "A relationship ended; data carries its valid_to."),
    EventTypeSpec("link.removed", "link", "A link was found to be wrong and removed."),
)

EVENT_TYPES: dict[str, EventTypeSpec] = {spec.type: spec for spec in _SPECS}
"""Every canonical event type by name."""


def event_types_for(schema: str) -> list[EventTypeSpec]:
    """The catalogued event types whose data is of ``schema``."""
    return [spec for spec in _SPECS if spec.schema == schema]
