"""The example POLE data in examples/pole/ is valid, and the broken examples fail naming the field.

Each file is ``{"schema": NAME, "instance": {...}}``. Files sharing a prefix
belong together (``custody-episode.*.json`` is one arrest-to-custody story).
Broken examples live in ``invalid/`` when the exported JSON Schema can refuse
them too, and in ``invalid/model-only/`` when only the Python model can (check
characters, dates relative to today, cross-field rules).
"""

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from polestar.model import CANONICAL_MODELS, Entity, Envelope, Link, from_envelope, to_envelope
from polestar.model.catalogue import event_types_for

EXAMPLES = Path(__file__).parents[3] / "examples" / "pole"
VALID = sorted(EXAMPLES.glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").rglob("*.json"))

# file -> (dotted location the error must name, words the reason must contain)
EXPECTED_FAILURES = {
    "bad-postcode": ("address.postcode", "is not a valid UK postcode"),
    "bad-pnc-check-character": ("identifiers.0.PNC.value", "has check character 'Z' but should be 'H'"),
    "future-date-of-birth": ("date_of_birth.value", "is in the future"),
    "unknown-classification": ("marking.classification", "OFFICIAL"),
    "bad-nino-prefix": ("identifiers.3.NINO.value", "letter HMRC never does"),
    "bad-vin-letter-o": ("vin", "contains O"),
    "bad-registration-mark": ("registration", "not a valid UK mark"),
    "incident-invalid-status-transition": ("", "from 'on-scene' to 'created'"),
    "stop-search-s60-without-authorisation": ("", "needs an authorisation_reference"),
}


def load(path: Path) -> Entity:
    document = json.loads(path.read_text())
    entity = CANONICAL_MODELS[document["schema"]].model_validate(document["instance"])
    assert isinstance(entity, Entity)
    return entity


def test_the_examples_cover_the_flows():
    stems = {p.name.split(".", 1)[0] for p in VALID}
    assert stems >= {"custody-episode", "incident", "stop-search", "crime"}


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_examples_validate_and_travel_in_an_envelope(path):
    entity = load(path)
    event_type = event_types_for(entity.schema_name)[0].type
    envelope = to_envelope(entity, type=event_type, source="/examples")
    assert from_envelope(Envelope.from_json(envelope.to_json())) == entity


def test_every_link_in_the_examples_joins_two_examples():
    entities = [load(path) for path in VALID]
    known = {(e.ref.type, e.id) for e in entities if not isinstance(e, Link)}
    links = [e for e in entities if isinstance(e, Link)]
    assert links
    for link in links:
        assert (link.from_ref.type, link.from_ref.id) in known
        assert (link.to_ref.type, link.to_ref.id) in known


def test_the_custody_story_has_its_person_vehicle_location_and_links():
    story = [load(p) for p in VALID if p.name.startswith("custody-episode")]
    kinds = {e.schema_name for e in story}
    assert {"person", "vehicle", "location", "custody-episode", "link"} <= kinds
    roles = {e.role.value for e in story if isinstance(e, Link)}
    assert {"detainee", "driver", "scene", "custody-suite"} <= roles


def test_every_invalid_example_has_an_expected_failure():
    assert {p.stem for p in INVALID} == set(EXPECTED_FAILURES)


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_examples_fail_naming_the_field(path):
    where, why = EXPECTED_FAILURES[path.stem]
    with pytest.raises(ValidationError) as caught:
        load(path)
    errors = caught.value.errors()
    locations = [".".join(str(part) for part in e["loc"]) for e in errors]
    assert where in locations, locations
    assert any(why in e["msg"] for e in errors), [e["msg"] for e in errors]
