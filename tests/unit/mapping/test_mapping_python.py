from textwrap import dedent

import pytest

from polestar.errors import ConfigError, MappingFailed
from polestar.model import Envelope

MODULE = """
from polestar.errors import MappingFailed
from polestar.model import to_envelope
from polestar.model.locations import Location

PROVENANCE = {"organisation": "01", "system": "cad", "recorded_at": "2026-11-24T12:00:00Z"}


def place(record):
    if record.get("boom"):
        raise KeyError("grid")
    return [{"provenance": PROVENANCE, "description": d} for d in record["places"]]


def station(code):
    return {"CX": "Charing Cross", "BX": "Brixton"}[code]


class Places:
    def to_canonical(self, record, context):
        location = Location.model_validate({"provenance": PROVENANCE, "name": record["name"]})
        return [to_envelope(location, type="location.created", source=context.source)]


def to_row(envelope):
    return {"kind": envelope["type"], "name": envelope["data"]["name"]}


class NeedsArguments:
    def __init__(self, url):
        self.url = url
"""

MAPPINGS = """
mappings:
  - name: places
    direction: inbound
    python: "{module}:place"
    schema: location
    type: location.created
  - name: places-object
    direction: inbound
    python: "{module}:Places"
  - name: rows
    direction: outbound
    python: "{module}:to_row"
  - name: suites
    direction: inbound
    outputs:
      - schema: location
        type: location.created
        fields:
          provenance: {{organisation: {{$const: "01"}}, system: {{$const: custody}}}}
          name: {{$python: "{module}:station", $args: [suite]}}
"""


@pytest.fixture
def module(tmp_path, monkeypatch, request):
    name = f"force_mappings_{request.node.name.replace('[', '_').replace(']', '_').replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(dedent(MODULE), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_a_plain_function_returns_canonical_dicts(load, module, context):
    events = (
        load(MAPPINGS.format(module=module))
        .inbound("places")
        .to_canonical({"places": ["bus shelter", "alley"]}, context())
    )
    assert [e.data["description"] for e in events] == ["bus shelter", "alley"]
    assert {e.type for e in events} == {"location.created"}


def test_an_object_with_to_canonical_is_used_as_it_is(load, module, context):
    events = (
        load(MAPPINGS.format(module=module))
        .inbound("places-object")
        .to_canonical({"name": "Charing Cross custody"}, context())
    )
    assert events[0].data["name"] == "Charing Cross custody"


def test_an_outbound_function_reads_the_envelope_as_json(load, module):
    event = Envelope(source="/x", type="location.created", data={"name": "Brixton"})
    assert load(MAPPINGS.format(module=module)).outbound("rows").from_canonical(event) == {
        "kind": "location.created",
        "name": "Brixton",
    }


def test_one_field_may_be_computed_by_a_registered_function(load, module, context):
    mapping = load(MAPPINGS.format(module=module)).inbound("suites")
    assert mapping.to_canonical({"suite": "CX"}, context())[0].data["name"] == "Charing Cross"
    with pytest.raises(MappingFailed) as caught:
        mapping.to_canonical({"suite": "ZZ"}, context())
    assert caught.value.field == "location.name"
    assert f"{module}:station raised KeyError" in caught.value.reason


def test_data_errors_in_python_become_mapping_failures(load, module, context):
    mapping = load(MAPPINGS.format(module=module)).inbound("places")
    with pytest.raises(MappingFailed, match="raised KeyError") as caught:
        mapping.to_canonical({"boom": True}, context())
    assert caught.value.where == "custody.csv:2"
    with pytest.raises(MappingFailed) as invalid:
        mapping.to_canonical({"places": [""]}, context())
    assert invalid.value.field == "places.description"


def test_python_that_cannot_be_imported_is_a_load_error(load, module):
    with pytest.raises(ConfigError) as caught:
        load(
            f"""
            mappings:
              - {{name: a, direction: inbound, python: "no_such_module_here:f"}}
              - {{name: b, direction: inbound, python: "{module}:missing"}}
              - {{name: c, direction: inbound, python: "{module}:NeedsArguments"}}
              - {{name: d, direction: inbound, python: "{module}:place"}}
              - {{name: e, direction: inbound, python: "not-a-reference"}}
            """
        )
    text = "\n".join(f"{w} {r}" for w, r in caught.value.problems)
    assert "mappings[0].python cannot import 'no_such_module_here'" in text
    assert f"mappings[1].python module '{module}' has no 'missing'" in text
    assert "cannot be created without arguments" in text
    assert "mappings[3].schema a plain inbound function needs the canonical `schema`" in text
    assert "is not of the form 'package.module:name'" in text
