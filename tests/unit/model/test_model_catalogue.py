"""The event-type catalogue, its documentation and the code lists stay in step with the code."""

import re
from pathlib import Path

from polestar.model import CANONICAL_MODELS, EVENT_TYPES, Envelope, code_lists
from polestar.model.envelope import check_event_type

DOCS = Path(__file__).parents[3] / "docs"


def test_every_catalogued_type_follows_the_scheme_and_names_a_registered_schema():
    for spec in EVENT_TYPES.values():
        assert check_event_type(spec.type) == spec.type
        assert spec.schema in CANONICAL_MODELS
        assert Envelope(source="/x", type=spec.type).type == spec.type


def test_the_catalogue_covers_the_flows_named_in_the_issue():
    assert {
        "person.created",
        "person.updated",
        "custody.episode.opened",
        "custody.detainee.released",
        "incident.created",
        "incident.unit.assigned",
        "incident.status.changed",
        "crime.report.submitted",
        "crime.reference.assigned",
        "stop-search.recorded",
    } <= set(EVENT_TYPES)


def test_every_entity_schema_has_at_least_one_event_type():
    schemas = {spec.schema for spec in EVENT_TYPES.values()}
    for name in CANONICAL_MODELS:
        if name not in {"envelope", "protective-marking"}:
            assert name in schemas, name


def test_the_event_types_page_lists_exactly_the_catalogue():
    text = (DOCS / "event-types.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", text, flags=re.MULTILINE)
    assert rows == [(spec.type, spec.schema) for spec in EVENT_TYPES.values()]


def test_the_evolution_page_exists_and_explains_upcasting():
    text = (DOCS / "model-evolution.md").read_text()
    for phrase in ("additive", "upcast", "How to add a field", "SchemaVersionError"):
        assert phrase in text


def test_code_lists_are_introspectable_with_descriptions():
    lists = code_lists()
    assert {"Gender", "IncidentStatus", "LinkRole", "SearchPower", "RegistrationFormat"} <= set(lists)
    for name, code_list in lists.items():
        assert code_list.__doc__, name
        for code, description in code_list.describe():
            assert code, name
            assert description.endswith("."), (name, code)
    assert [code for code, _ in lists["Gender"].describe()] == ["0", "1", "2", "9"]


def test_code_descriptions_reach_the_json_schema():
    schema = CANONICAL_MODELS["person"].model_json_schema()
    gender = schema["$defs"]["Gender"]
    assert gender["enum"] == ["0", "1", "2", "9"]
    assert gender["x-enum-descriptions"]["1"] == "Male."
    assert "ISO/IEC 5218" in gender["description"]
