from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from polestar.errors import ModelError
from polestar.model import EntityType, Link, Location, Person, Vehicle
from polestar.model.timeutil import display_text

PROVENANCE = {"organisation": "01", "system": "custody", "recorded_at": "2026-11-23T21:56:00Z"}


def test_a_person_is_driver_of_a_vehicle():
    person = Person.model_validate({"provenance": PROVENANCE, "name": {"family": "Okafor"}})
    vehicle = Vehicle.model_validate({"provenance": PROVENANCE, "registration": "LK19 XWT"})
    link = Link(provenance=person.provenance, role="driver", from_ref=person.ref, to_ref=vehicle.ref)
    assert link.from_ref.type is EntityType.PERSON
    assert link.to_ref.type is EntityType.VEHICLE


@pytest.mark.parametrize(
    ("role", "frm", "to", "reason"),
    [
        ("driver", "vehicle", "person", "cannot start at a vehicle"),
        ("driver", "person", "location", "cannot end at a location"),
        ("scene", "person", "incident", "cannot start at a person"),
        ("suspect", "phone", "crime", "cannot start at a phone"),
    ],
)
def test_link_ends_must_fit_the_role(role, frm, to, reason):
    with pytest.raises(ValidationError, match=reason):
        Link.model_validate(
            {
                "provenance": PROVENANCE,
                "role": role,
                "from_ref": {"type": frm, "id": "a"},
                "to_ref": {"type": to, "id": "b"},
            }
        )


def test_links_refuse_self_reference_and_reversed_dates():
    ref = {"type": "person", "id": "a"}
    with pytest.raises(ValidationError, match="to itself"):
        Link.model_validate({"provenance": PROVENANCE, "role": "associate", "from_ref": ref, "to_ref": ref})
    with pytest.raises(ValidationError, match="valid_from is after valid_to"):
        Link.model_validate(
            {
                "provenance": PROVENANCE,
                "role": "resident",
                "from_ref": ref,
                "to_ref": {"type": "location", "id": "b"},
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_to": "2025-01-01T00:00:00Z",
            }
        )


def test_a_link_cannot_be_the_end_of_a_link():
    location = Location.model_validate({"provenance": PROVENANCE, "description": "park"})
    link = Link(
        provenance=location.provenance,
        role="found",
        from_ref={"type": "weapon", "id": "w1"},
        to_ref=location.ref,
    )
    with pytest.raises(ModelError, match="cannot be the end of a link"):
        _ = link.ref


def test_every_entity_has_provenance_marking_and_version():
    with pytest.raises(ValidationError, match="provenance"):
        Location.model_validate({"description": "park"})
    with pytest.raises(ValidationError, match="version"):
        Location.model_validate({"provenance": PROVENANCE, "description": "park", "version": 0})
    with pytest.raises(ValidationError, match="observed_at"):
        Location.model_validate(
            {"provenance": {**PROVENANCE, "observed_at": "2026-11-24T00:00:00Z"}, "description": "park"}
        )
    with pytest.raises(ValidationError, match="marking"):
        Location.model_validate({"provenance": PROVENANCE, "description": "park", "marking": "RESTRICTED"})
    located = Location.model_validate(
        {"provenance": PROVENANCE, "description": "park", "marking": "OFFICIAL-SENSITIVE [PERSONAL]"}
    )
    assert located.marking.label == "OFFICIAL-SENSITIVE [PERSONAL]"
    assert located.version == 1
    assert located.revised(description="the park").version == 2


def test_times_are_stored_in_utc():
    location = Location.model_validate(
        {"provenance": {**PROVENANCE, "recorded_at": "2026-07-01T10:00:00+01:00"}, "description": "park"}
    )
    assert location.provenance.recorded_at.isoformat() == "2026-07-01T09:00:00+00:00"
    with pytest.raises(ValidationError, match="recorded_at"):
        Location.model_validate(
            {"provenance": {**PROVENANCE, "recorded_at": "2026-07-01T10:00:00"}, "description": "park"}
        )


def test_times_are_shown_in_london():
    assert display_text(datetime(2026, 7, 1, 9, 0, tzinfo=UTC)) == "01/07/2026 10:00 BST"
    assert display_text(datetime(2026, 11, 24, 14, 3, tzinfo=UTC)) == "24/11/2026 14:03 GMT"
