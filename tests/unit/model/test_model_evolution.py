from typing import Any

import pytest
from pydantic import ValidationError

from polestar.errors import ModelError, SchemaVersionError
from polestar.model import (
    CANONICAL_MODELS,
    ENTITY_MODELS,
    SCHEMA_VERSIONS,
    Envelope,
    Person,
    Upcasters,
    Vehicle,
    from_envelope,
    to_envelope,
)
from polestar.model.envelope import parse_schema_urn

PROVENANCE = {"organisation": "01", "system": "custody", "recorded_at": "2026-11-23T21:52:10Z"}


def a_person(**fields: Any) -> Person:
    return Person.model_validate(
        {"provenance": PROVENANCE, "name": {"given": "Daniel", "family": "Okafor"}, **fields}
    )


def test_every_entity_is_registered_under_its_kebab_case_name():
    for model in ENTITY_MODELS:
        assert CANONICAL_MODELS[model.schema_name] is model
    assert {"person", "vehicle", "custody-episode", "link", "envelope"} <= set(CANONICAL_MODELS)
    for name in CANONICAL_MODELS:
        assert name == name.lower()
        assert " " not in name
        assert "_" not in name
        assert SCHEMA_VERSIONS[name] == "1.0"


def test_every_canonical_model_publishes_a_json_schema():
    for model in CANONICAL_MODELS.values():
        schema = model.model_json_schema()
        assert schema["type"] == "object"


def test_to_envelope_names_the_schema_and_carries_the_marking():
    person = a_person(marking="OFFICIAL-SENSITIVE [PERSONAL]")
    env = to_envelope(person, type="person.created", source="/connectors/custody", actor="system:custody")
    assert env.dataschema == "urn:polestar:schema:person:1.0"
    assert env.classification == "OFFICIAL-SENSITIVE [PERSONAL]"
    assert env.subject == person.id
    assert env.partitionkey == person.id
    assert env.actor == "system:custody"
    assert from_envelope(Envelope.from_json(env.to_json()), Person) == person


def test_a_catalogued_type_must_carry_its_schema():
    with pytest.raises(ModelError, match="carries 'custody-episode', not 'person'"):
        to_envelope(a_person(), type="custody.episode.opened", source="/x")


def test_an_envelope_cannot_be_marked_below_its_payload():
    with pytest.raises(ModelError, match="lower than the payload"):
        to_envelope(a_person(marking="SECRET"), type="person.created", source="/x", classification="OFFICIAL")
    env = to_envelope(a_person(), type="person.created", source="/x")
    tampered = env.model_copy(update={"data": {**(env.data or {}), "marking": "SECRET"}})
    with pytest.raises(ModelError, match="below its payload"):
        from_envelope(tampered)


def envelope_of(schema: str, data: dict[str, Any] | None) -> Envelope:
    return Envelope(source="/x", type="person.created", dataschema=schema, data=data)


def test_unknown_schema_and_missing_dataschema_raise_schema_version_error():
    data = a_person().model_dump(mode="json")
    with pytest.raises(SchemaVersionError, match="no canonical schema is named 'martian'"):
        from_envelope(envelope_of("urn:polestar:schema:martian:1.0", data))
    with pytest.raises(SchemaVersionError, match="no dataschema"):
        from_envelope(Envelope(source="/x", type="person.created", data=data))


def test_a_newer_major_version_is_refused():
    data = a_person().model_dump(mode="json")
    with pytest.raises(SchemaVersionError, match="newer major version"):
        from_envelope(envelope_of("urn:polestar:schema:person:2.0", data))


def test_a_newer_minor_version_is_read_unless_it_uses_new_fields():
    data = a_person().model_dump(mode="json")
    assert from_envelope(envelope_of("urn:polestar:schema:person:1.3", data)) == a_person(id=data["id"])
    with pytest.raises(SchemaVersionError, match="fields it does not know: favourite_colour"):
        from_envelope(envelope_of("urn:polestar:schema:person:1.3", {**data, "favourite_colour": "red"}))


def test_an_older_major_version_without_an_upcaster_is_refused():
    with pytest.raises(SchemaVersionError, match="no upcaster"):
        from_envelope(envelope_of("urn:polestar:schema:person:0.9", {}), upcasters=Upcasters())


def test_old_events_are_upcast_when_read():
    upcasters = Upcasters()

    # Person 0.9 held the name as flat 'forename' and 'surname' fields.
    @upcasters.register("person", "0.9", "1.0")
    def nest_the_name(data: dict[str, Any]) -> dict[str, Any]:
        data["name"] = {"given": data.pop("forename"), "family": data.pop("surname")}
        return data

    old = {"id": "p-1", "provenance": PROVENANCE, "forename": "Daniel", "surname": "Okafor"}
    person = from_envelope(envelope_of("urn:polestar:schema:person:0.9", old), Person, upcasters=upcasters)
    assert person.name.full == "Daniel Okafor"
    assert [(s.source, s.target) for s in upcasters.steps("person")] == [((0, 9), (1, 0))]


def rename(old: str, new: str):
    def step(data: dict[str, Any]) -> dict[str, Any]:
        data[new] = data.pop(old)
        return data

    return step


def test_upcasters_chain_step_by_step():
    upcasters = Upcasters()
    upcasters.add("person", "0.8", "0.9", rename("family_name", "surname"))
    upcasters.add("person", "0.9", "1.0", lambda d: {"name": {"family": d.pop("surname")}, **d})
    old = {"provenance": PROVENANCE, "family_name": "Okafor"}
    person = from_envelope(envelope_of("urn:polestar:schema:person:0.8", old), Person, upcasters=upcasters)
    assert person.name.family == "Okafor"


def test_bad_upcaster_registrations_are_refused():
    upcasters = Upcasters()
    upcasters.add("person", "0.9", "1.0", rename("surname", "family"))
    with pytest.raises(ModelError, match="already registered"):
        upcasters.add("person", "0.9", "1.0", rename("surname", "family"))
    with pytest.raises(ModelError, match="later version"):
        upcasters.add("person", "1.0", "0.9", rename("family", "surname"))


def test_from_envelope_checks_the_expected_type_and_reports_bad_data_by_field():
    env = to_envelope(a_person(), type="person.created", source="/x")
    with pytest.raises(ModelError, match="carries a person, not a Vehicle"):
        from_envelope(env, Vehicle)
    broken = env.model_copy(update={"data": {**(env.data or {}), "gender": "M"}})
    with pytest.raises(ValidationError, match="gender"):
        from_envelope(broken)
    assert parse_schema_urn(env.dataschema or "") == ("person", (1, 0))
