"""The example agreements allow the example routes, and minimising loses nothing the mappings use."""

from __future__ import annotations

from pathlib import Path

import yaml

from polestar.mapping import load_mappings
from polestar.model import MODEL_VERSION
from polestar.model.envelope import Envelope, schema_urn
from polestar.security import AgreementBook, marking_of

EXAMPLES = Path(__file__).parents[3] / "examples" / "integration"


def _fixture_events() -> list[Envelope]:
    fixture = yaml.safe_load((EXAMPLES / "mappings" / "custody.test.yaml").read_text())["tests"][0]
    provenance = fixture["events"][0]["data"]["provenance"]
    for event in fixture["events"]:
        event["data"].setdefault("provenance", provenance)
        if event["type"] == "person.created":
            event["data"]["contact_points"] = [{"kind": "email", "address": "sam@example.org"}]
    return [
        Envelope(
            source="/connectors/custody-files",
            type=e["type"],
            subject=e.get("subject"),
            dataschema=schema_urn(e["schema"], MODEL_VERSION),
            classification=e.get("classification") or marking_of(e["data"].get("marking")).label,
            data=e["data"],
        )
        for e in fixture["events"]
    ]


def test_the_footwear_database_gets_minimised_people_and_the_same_record_as_before() -> None:
    book = AgreementBook.load(EXAMPLES / "agreements")
    mappings = load_mappings(sorted((EXAMPLES / "mappings").glob("*.yaml")))
    footwear = mappings.outbound("footwear-subject-xml")
    people = [e for e in _fixture_events() if e.type == "person.created"]
    assert people
    for person in people:
        verdict = book.check("footwear-db", person)
        assert verdict.allowed, verdict.reason
        assert verdict.agreement == "footwear-custody-subjects"
        assert "contact_points" in (person.data or {})
        assert "contact_points" not in (verdict.envelope.data or {})
        assert footwear.from_canonical(verdict.envelope) == footwear.from_canonical(person)


def test_the_warehouse_gets_custody_events_but_not_people() -> None:
    book = AgreementBook.load(EXAMPLES / "agreements")
    for event in _fixture_events():
        verdict = book.check("warehouse-files", event)
        assert verdict.allowed is event.type.startswith("custody."), verdict.reason
