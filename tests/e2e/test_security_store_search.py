"""Who may search, pre-fill and read the store, and what of it they see: roles, clearance, caveats, fields.

Real tokens against the hub of ``_store_world`` (embedded, and cluster on
NATS and PostgreSQL), with records of different markings added to its world.
"""

from __future__ import annotations

from typing import Any

from _store_world import Hub, envelope, hub, hub_config, link, prov, settled

from polestar.audit import AuditQuery, Operation, Outcome
from polestar.model import Person

__all__ = ["hub", "hub_config"]  # fixtures, used by name

OFFICER = {"subject": "user:pc77", "roles": ["officer"], "clearance": "OFFICIAL-SENSITIVE [PERSONAL]"}
INVESTIGATOR = {"subject": "user:dc5", "roles": ["investigator"], "clearance": "SECRET [PERSONAL]"}
AUDITOR = {"subject": "user:aud1", "roles": ["auditor"], "clearance": "TOP SECRET"}
DAFYDD = {"given": "Dafydd", "family": "Jenkins", "date_of_birth": "1971-02-03"}
MEGAN = {"given": "Megan", "family": "Rowlands", "date_of_birth": "1966-07-08"}


async def _marked_world(hub: Hub) -> None:
    """A SECRET man linked to Robert Smith, a woman only UK eyes may see, and a man with a tattoo."""
    people = [
        Person(
            id="p5",
            name={"given": "Dafydd", "family": "Jenkins"},
            date_of_birth=DAFYDD["date_of_birth"],
            marking="SECRET",
            provenance=prov(),
        ),
        Person(
            id="p6",
            name={"given": "Megan", "family": "Rowlands"},
            date_of_birth=MEGAN["date_of_birth"],
            marking="OFFICIAL [UK EYES ONLY]",
            provenance=prov(),
        ),
        Person(
            id="p8",
            name={"given": "Iwan", "family": "Morgan"},
            description={
                "height_cm": 180,
                "ethnic_appearance": "IC1",
                "marks": [{"type": "tattoo", "body_location": "left forearm"}],
            },
            provenance=prov(),
        ),
        link("k6", "associate", ("person", "p1"), ("person", "p5")),
    ]
    for entity in people:
        await hub.bus.publish(envelope(entity))
    await settled(hub.client)


async def _search(hub: Hub, who: dict[str, Any], body: dict[str, Any]) -> list[str]:
    answer = await hub.client.post("/search/people", json=body, headers=hub.token(**who))
    assert answer.status_code == 200, answer.text
    return [m["person_id"] for m in answer.json()]


async def test_an_officer_token_can_search_prefill_and_read_records(hub: Hub) -> None:
    officer = hub.token(**OFFICER)
    found = await hub.client.post(
        "/search/people", json={"given": "Robert", "family": "Smith"}, headers=officer
    )
    assert found.status_code == 200, found.text
    assert found.json()[0]["person_id"] == "p1"
    vehicles = await hub.client.post("/search/vehicles", json={"registration": "AB12*"}, headers=officer)
    assert [v["vehicle_id"] for v in vehicles.json()] == ["v1"]
    filled = await hub.client.post(
        "/prefill", json={"vehicles": [{"registration": "AB12 CDE"}]}, headers=officer
    )
    assert filled.json()["vehicles"][0]["suggestions"][0]["attach"]["id"] == "v1"
    record = await hub.client.get("/store/records/p1", headers=officer)
    assert record.json()["document"]["name"]["family"] == "Smith"


async def test_a_token_without_the_role_is_refused_with_403(hub: Hub) -> None:
    auditor, officer = hub.token(**AUDITOR), hub.token(**OFFICER)
    client = hub.client
    assert (await client.post("/search/people", json={"family": "Smith"}, headers=auditor)).status_code == 403
    assert (await client.post("/prefill", json={}, headers=auditor)).status_code == 403
    assert (await client.get("/store/records/p1", headers=auditor)).status_code == 403
    assert (await client.get("/search/links/p1", headers=auditor)).status_code == 403
    # Officers search; deciding matches and merging are for reviewers.
    assert (await client.get("/resolution/reviews", headers=officer)).status_code == 403
    merge = {"survivor_id": "p1", "other_id": "p2", "reason": "same man"}
    refused = await client.post("/store/merges", json=merge, headers=officer)
    assert refused.status_code == 403
    assert "record.merge is not allowed" in refused.json()["detail"]
    reviewer = hub.token(subject="user:dq1", roles=["reviewer"], clearance="SECRET [PERSONAL]")
    assert (await client.get("/resolution/reviews", headers=reviewer)).status_code == 200


async def test_a_low_clearance_token_never_sees_a_secret_record(hub: Hub) -> None:
    await _marked_world(hub)
    client, officer = hub.client, hub.token(**OFFICER)
    assert await _search(hub, OFFICER, DAFYDD) == []
    assert await _search(hub, INVESTIGATOR, DAFYDD) == ["p5"]

    absent = await client.get("/store/records/nobody", headers=officer)
    hidden = await client.get("/store/records/p5", headers=officer)
    assert hidden.status_code == absent.status_code == 404  # not 403: its existence is not disclosed
    assert hidden.json()["detail"] == "no record p5"
    for part in ("history", "provenance", "merges"):
        assert (await client.get(f"/store/records/p5/{part}", headers=officer)).status_code in {403, 404}
    assert (await client.get("/store/records/p5", headers=hub.token(**INVESTIGATOR))).status_code == 200

    around = await client.get("/search/links/p1", params={"kind": "person"}, headers=officer)
    assert [r["entity_id"] for r in around.json()["linked"]] == ["p2"]
    seen_by_investigator = await client.get(
        "/search/links/p1", params={"kind": "person"}, headers=hub.token(**INVESTIGATOR)
    )
    assert sorted(r["entity_id"] for r in seen_by_investigator.json()["linked"]) == ["p2", "p5"]
    assert (await client.get("/search/links/p5", headers=officer)).status_code == 404

    filled = await client.post("/prefill", json={"people": [DAFYDD]}, headers=officer)
    assert filled.json()["people"][0]["suggestions"] == []
    robert = await client.post(
        "/prefill", json={"people": [{"given": "Robert", "family": "Smith"}]}, headers=officer
    )
    linked = robert.json()["people"][0]["suggestions"][0]["linked"]
    assert "p5" not in {r["entity_id"] for r in linked}


async def test_a_record_with_a_caveat_the_caller_lacks_is_left_out(hub: Hub) -> None:
    await _marked_world(hub)
    secret_cleared = {**INVESTIGATOR, "clearance": "TOP SECRET [PERSONAL]"}  # high, but not UK EYES ONLY
    assert await _search(hub, secret_cleared, MEGAN) == []
    uk_eyes = {**INVESTIGATOR, "clearance": "OFFICIAL-SENSITIVE [PERSONAL, UK EYES ONLY]"}
    assert await _search(hub, uk_eyes, MEGAN) == ["p6"]
    assert (await hub.client.get("/store/records/p6", headers=hub.token(**secret_cleared))).status_code == 404


async def test_special_category_fields_are_redacted_for_officers(hub: Hub) -> None:
    await _marked_world(hub)
    seen = (await hub.client.get("/store/records/p8", headers=hub.token(**OFFICER))).json()["document"]
    assert seen["description"]["height_cm"] == 180
    assert "ethnic_appearance" not in seen["description"]
    assert "marks" not in seen["description"]
    history = (await hub.client.get("/store/records/p8/history", headers=hub.token(**OFFICER))).json()
    assert "marks" not in history[0]["document"]["description"]
    claims = (await hub.client.get("/store/records/p8/provenance", headers=hub.token(**OFFICER))).json()
    description = next(c for c in claims if c["path"] == "description")
    assert "ethnic_appearance" not in description["value"]
    full = (await hub.client.get("/store/records/p8", headers=hub.token(**INVESTIGATOR))).json()["document"]
    assert full["description"]["ethnic_appearance"] == "IC1"


async def test_every_screening_decision_is_audited_with_its_policy(hub: Hub) -> None:
    await _marked_world(hub)
    assert await _search(hub, OFFICER, DAFYDD) == []
    log = hub.app.state.hub.audit.log
    decisions = await log.find(AuditQuery(operation=Operation.ACCESS_DECISION, actor="user:pc77"))
    refused = [r for r in decisions if r.outcome is Outcome.REFUSED]
    assert any(
        "p5" in r.record_ids and r.details["policies"] == ["clearance-must-cover-the-marking"]
        for r in refused
    )
