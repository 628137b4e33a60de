"""The force's CAD mappings (flows 2 and 3) pass their fixtures, and CAD's confirmations duplicate nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from polestar.mapping.contract import MappingContext
from polestar.mapping.fixtures import run_mapping_tests
from polestar.mapping.loader import load_mappings
from polestar.model import Envelope
from polestar.store import Outcome, SqliteStore

MAPPINGS = Path(__file__).resolve().parents[3] / "examples" / "force" / "integration" / "mappings"


def test_the_cad_mapping_fixtures_pass() -> None:
    mappings = load_mappings([MAPPINGS])
    fixtures = [f for f in mappings.fixtures if Path(f.where.split(":")[0]).name == "cad.test.yaml"]
    assert len(fixtures) == 6
    report = run_mapping_tests(mappings, fixtures)
    assert report.passed, [(r.name, r.problems, r.diff) for r in report.failures]


CALL = "CH-20261123-00017"
INCIDENT = "INC-20261123-0311"
CRIME = "CRI-2026-000123"


def _context(connector: str, source: str) -> MappingContext:
    return MappingContext(
        connector=connector,
        source=source,
        where="test",
        received_at=datetime(2026, 11, 23, 2, 0, 8, tzinfo=UTC),
    )


def hub_link() -> Envelope:
    """The incident-to-crime link the call-to-crime route publishes (crime.yaml's mapping)."""
    answer = {  # what the route's `map` step reads, as in crime.yaml's fixture
        "key": CALL,
        "items": [
            {"reference": CALL, "id": "5c0a3f55", "received_at": "2026-11-23T01:59:00Z", "summary": "x"}
        ],
        "cad": {"status": 201, "body": {"incidentNumber": INCIDENT, "callId": CALL}},
        "crime_recording": {
            "status": 201,
            "body": {"crimeReference": CRIME, "status": "DRAFT", "recorded": "2026-11-23T02:00:05"},
        },
    }
    published = (
        load_mappings([MAPPINGS])
        .inbound("crime-reference-link")
        .to_canonical(answer, _context("route:call-to-crime", "/routes/call-to-crime"))
    )
    (link,) = [
        e for e in published if e.type == "link.created" and (e.data or {})["from_ref"]["type"] == "incident"
    ]
    return link


def cad_event(**changes: Any) -> dict[str, Any]:
    """CAD's CRIME_REFERENCE_LINKED event for the incident it made of CALL."""
    return {
        "eventType": "CRIME_REFERENCE_LINKED",
        "sequence": 3,
        "incidentNumber": INCIDENT,
        "created": "2026-11-23T01:59:10",
        "lastUpdated": "2026-11-23T02:00:07",
        "description": "x",
        "grade": "G3",
        "status": "GRADED",
        "statusLog": [{"status": "GRADED", "at": "2026-11-23T01:59:10"}],
        "units": [],
        "location": {"town": "Leeds"},
        "callId": CALL,
        "crimeReference": CRIME,
        **changes,
    }


def cad_mapped(event: dict[str, Any]) -> list[Envelope]:
    """``event`` through CAD's inbound mapping, as /ingest/cad maps it."""
    mapping = load_mappings([MAPPINGS]).inbound("cad-dispatch-json")
    return mapping.to_canonical(event, _context("cad", "/connectors/cad"))


def test_cads_crime_reference_event_is_the_link_the_hub_published_not_another() -> None:
    hubs = hub_link()
    (link,) = cad_mapped(cad_event())

    assert link.type == hubs.type == "link.created"
    assert link.data is not None
    assert hubs.data is not None
    same = ("id", "role", "from_ref", "to_ref", "version")
    assert {k: link.data[k] for k in same} == {k: hubs.data[k] for k in same}
    assert link.data["provenance"]["system"] == "cad"  # CAD's own claim to the same link


def test_a_crime_reference_on_an_incident_not_made_from_a_call_gives_no_link() -> None:
    event = cad_event()
    del event["callId"]
    assert cad_mapped(event) == []


async def test_the_store_holds_one_link_whichever_of_the_two_arrives_first(tmp_path: Path) -> None:
    (confirmed,) = cad_mapped(cad_event())
    for number, order in enumerate([(hub_link(), confirmed), (confirmed, hub_link())]):
        store = SqliteStore(tmp_path / f"store-{number}.sqlite3")
        await store.start()
        try:
            first, second = [await store.apply(event) for event in order]
        finally:
            await store.close()
        assert first.outcome is Outcome.CREATED
        assert (second.outcome, second.entity_id, second.version) == (Outcome.UNCHANGED, first.entity_id, 1)
