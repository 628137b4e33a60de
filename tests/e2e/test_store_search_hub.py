"""The store wired into the hub: canonical events on the bus are stored, resolved and searchable.

Each test taking ``hub`` runs on the embedded profile (SQLite bus and store)
and on the cluster profile (NATS JetStream and PostgreSQL, in the test's own
schema); see ``_store_world``.
"""

from __future__ import annotations

from typing import Any

import httpx
from _store_world import SKETTY, WHO, envelope, eventually, hub, hub_config, prov, world

from polestar.api import create_app
from polestar.audit import AuditQuery, Operation, Outcome, SubjectRef
from polestar.config import HubConfig, StoreConfig
from polestar.model import Person
from polestar.security.testing import auth_headers

__all__ = ["hub", "hub_config"]  # fixtures, used by name


async def test_events_on_the_bus_are_stored_and_searchable(hub):
    client = hub.client
    ready = (await client.get("/ready")).json()
    assert {"name": "store", "status": "ok"} in ready["components"]

    people = (
        await client.post(
            "/search/people", json={"given": "Bob", "family": "Smyth", "date_of_birth": "1985"}, headers=WHO
        )
    ).json()
    assert people[0]["person_id"] == "p1"
    assert people[0]["band"] in {"strong", "possible"}
    assert {f["field"] for f in people[0]["fields"]} >= {"given", "family", "birth"}

    vehicles = (await client.post("/search/vehicles", json={"registration": "AB12*"}, headers=WHO)).json()
    assert [v["vehicle_id"] for v in vehicles] == ["v1"]

    record = (await client.get("/store/records/p1", headers=WHO)).json()
    assert record["document"]["name"]["family"] == "Smith"


async def test_address_text_postcode_and_radius_find_the_place(hub):
    client = hub.client
    typed = (
        await client.post(
            "/search/locations", json={"text": "14 acacia ave sketty", "postcode": "SA2 0AB"}, headers=WHO
        )
    ).json()
    assert typed[0]["location_id"] == "l1"
    assert typed[0]["band"] == "strong"
    assert {f["field"] for f in typed[0]["fields"]} >= {"postcode", "number", "address"}

    wrong_number = (
        await client.post("/search/locations", json={"text": "16 acacia avenue"}, headers=WHO)
    ).json()
    assert wrong_number == []  # another house on the street is not this one

    near = {"latitude": SKETTY[0] + 0.002, "longitude": SKETTY[1], "radius_m": 500}
    around = (await client.post("/search/locations", json={"near": near}, headers=WHO)).json()
    assert [m["location_id"] for m in around] == ["l1"]
    assert 200 < around[0]["distance_m"] < 250

    sector = (await client.post("/search/locations", json={"postcode": "sa2 0"}, headers=WHO)).json()
    assert [m["location_id"] for m in sector] == ["l1"]


async def test_events_by_kind_time_window_and_area(hub):
    client = hub.client
    near = {"latitude": SKETTY[0], "longitude": SKETTY[1], "radius_m": 1000}
    body = {"kinds": ["crime"], "occurred_from": "2026-03-01T00:00:00Z", "area": {"near": near}}
    found = (await client.post("/search/events", json=body, headers=WHO)).json()
    assert [e["event_id"] for e in found] == ["c1"]
    assert found[0]["places"] == ["l1"]
    later = {**body, "occurred_from": "2026-03-02T00:00:00Z"}
    assert (await client.post("/search/events", json=later, headers=WHO)).json() == []
    cardiff = {"kinds": ["crime"], "area": {"postcode": "CF10"}}
    assert (await client.post("/search/events", json=cardiff, headers=WHO)).json() == []


async def test_associates_within_hops_and_everyone_at_an_address(hub):
    client = hub.client
    one = (await client.get("/search/links/p1", params={"hops": 1, "kind": "person"}, headers=WHO)).json()
    assert [(r["entity_id"], r["depth"]) for r in one["linked"]] == [("p2", 1)]
    two = (await client.get("/search/links/p1", params={"hops": 2, "kind": "person"}, headers=WHO)).json()
    assert [(r["entity_id"], r["depth"]) for r in two["linked"]] == [("p2", 1), ("p3", 2)]
    at_home = (await client.get("/search/links/l1", params={"kind": "person"}, headers=WHO)).json()
    assert [(r["entity_id"], r["role"]) for r in at_home["linked"]] == [("p1", "resident")]
    car = (await client.get("/search/links/v1", headers=WHO)).json()
    assert car["description"] == "AB12 CDE Ford Focus"
    assert (await client.get("/search/links/nobody", headers=WHO)).status_code == 404


async def test_prefill_offers_known_people_vehicles_and_places(hub):
    client = hub.client
    body = {
        "people": [{"given": "Rob", "family": "Smith", "date_of_birth": "1985-06"}],
        "vehicles": [{"registration": "ab12 cde"}],
        "places": [{"text": "14 Acacia Avenue", "postcode": "SA2 0AB"}],
    }
    response = await client.post("/prefill", json=body, headers=WHO)
    assert response.status_code == 200, response.text
    result = response.json()
    [robert] = result["people"][0]["suggestions"]
    assert robert["attach"] == {"type": "person", "id": "p1"}
    assert {r["entity_id"] for r in robert["linked"]} == {"v1", "l1"}
    assert robert["document"]["date_of_birth"]["value"] == "1985-06-14"
    [car] = result["vehicles"][0]["suggestions"]
    assert car["attach"]["id"] == "v1"
    assert car["band"] == "strong"
    assert [r["entity_id"] for r in car["linked"]] == ["p1"]
    assert result["places"][0]["suggestions"][0]["attach"]["id"] == "l1"


async def test_history_then_automatic_merge_and_unmerge(hub):
    client, bus = hub.client, hub.bus
    renamed = Person(
        id="p1",
        version=2,
        name={"given": "Robert", "family": "Smith-Jones"},
        date_of_birth="1985-06-14",
        identifiers=[{"type": "PNC", "value": "2004/0123456B"}],
        provenance=prov(minutes=5),
    )
    await bus.publish(envelope(renamed))
    # The same man from another system: the same PNC ID merges him automatically.
    other = Person(
        id="p9",
        name={"given": "Bob", "family": "Smith"},
        identifiers=[{"type": "PNC", "value": "2004/0123456B"}],
        provenance=prov("pnc", minutes=6),
    )
    await bus.publish(envelope(other))

    async def merged() -> bool:
        found = (await client.get("/store/records/p9", headers=WHO)).json()
        return found.get("id") == "p1"

    await eventually(merged)
    history = (await client.get("/store/records/p1/history", headers=WHO)).json()
    assert [h["operation"] for h in history][:2] == ["created", "updated"]
    assert "name" in history[1]["changed_fields"]
    [merge] = (await client.get("/store/records/p9/merges", headers=WHO)).json()
    assert merge["survivor_id"] == "p1"
    assert merge["active"]

    undone = await client.post(
        f"/store/merges/{merge['id']}/unmerge", json={"reason": "different people"}, headers=WHO
    )
    assert undone.status_code == 200, undone.text
    assert (await client.get("/store/records/p9", headers=WHO)).json()["id"] == "p9"
    again = await client.post(
        "/store/merges",
        json={"survivor_id": "p1", "other_id": "p9", "reason": "same custody photo"},
        headers=WHO,
    )
    assert again.status_code == 201
    refused = await client.post(
        "/store/merges", json={"survivor_id": "p1", "other_id": "p9", "reason": "x"}, headers=WHO
    )
    assert refused.status_code == 409


async def test_a_possible_match_waits_for_a_person_to_decide(hub):
    client, bus = hub.client, hub.bus
    maybe = Person(
        id="p7", name={"given": "Robert", "family": "Smith"}, date_of_birth="1985", provenance=prov("cad")
    )
    await bus.publish(envelope(maybe))

    async def queued() -> list[dict[str, Any]]:
        return [
            r for r in (await client.get("/resolution/reviews", headers=WHO)).json() if r["record_id"] == "p7"
        ]

    [review] = await eventually(queued)
    assert review["candidate_id"] == "p1"
    decided = await client.post(
        f"/resolution/reviews/{review['id']}/decision",
        json={"same": False, "reason": "different man"},
        headers=WHO,
    )
    assert decided.json()["status"] == "rejected"
    twice = await client.post(
        f"/resolution/reviews/{review['id']}/decision", json={"same": True, "reason": "x"}, headers=WHO
    )
    assert twice.status_code == 409


async def test_bad_input_is_refused_with_where_it_is(hub):
    client, bus = hub.client, hub.bus
    bad_postcode = await client.post("/search/locations", json={"postcode": "ZZ"}, headers=WHO)
    assert bad_postcode.status_code == 422
    assert bad_postcode.json()["errors"][0]["loc"] == ["body"]
    assert "postcode" in bad_postcode.json()["errors"][0]["msg"]
    far = await client.post(
        "/search/locations", json={"near": {"latitude": 91, "longitude": 0, "radius_m": 5}}, headers=WHO
    )
    assert far.json()["errors"][0]["loc"] == ["body", "near", "latitude"]
    nothing = await client.post("/search/events", json={}, headers=WHO)
    assert nothing.status_code == 422
    not_an_event = await client.post("/search/events", json={"kinds": ["person"]}, headers=WHO)
    assert "not event kinds" in not_an_event.json()["errors"][0]["msg"]
    hops = await client.get("/search/links/p1", params={"hops": 99}, headers=WHO)
    assert hops.json()["errors"][0]["loc"] == ["query", "hops"]
    no_purpose = await client.post("/search/people", json={"family": "Smith"})
    assert no_purpose.status_code == 400
    assert "X-Polestar-Purpose" in no_purpose.json()["detail"]

    # An event that names a POLE schema but does not fit it is dead-lettered with the reason.
    broken = envelope(world()[0]).model_copy(
        update={"data": {"id": "p8", "name": "not a name"}, "id": "broken-1"}
    )
    await bus.publish(broken)

    async def dead() -> list[dict[str, Any]]:
        listed = await client.get("/bus/dead-letters", params={"group": "store-writer"}, headers=WHO)
        return [d for d in listed.json()["dead_letters"] if d["event_id"] == "broken-1"]

    [letter] = await eventually(dead)
    assert "invalid data" in (letter["reason"])


async def test_a_store_that_cannot_start_does_not_stop_the_hub(tmp_path):
    (tmp_path / "blocked").write_text("a file where the store's folder should be")
    config = HubConfig(
        data_dir=tmp_path, store=StoreConfig(url=f"sqlite:///{tmp_path}/blocked/store.sqlite3")
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = auth_headers(config)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub", headers=headers) as client:
            assert (await client.get("/health")).status_code == 200
            ready = await client.get("/ready")
            assert ready.status_code == 503
            [store] = [c for c in ready.json()["components"] if c["name"] == "store"]
            assert store["status"] == "unavailable"
            assert "store did not start" in store["detail"]
            # The audit log lives in the store's database, so it is down too: the hub fails closed,
            # refusing the search because it cannot record the access decision, or because the
            # store is not running, and never answers from nowhere.
            [audit] = [c for c in ready.json()["components"] if c["name"] == "audit"]
            assert audit["status"] != "ok"
            search = await client.post("/search/people", json={"family": "Smith"}, headers=WHO)
            assert search.status_code == 503
            detail = search.json()["detail"]
            assert "store is not running" in detail or "could not record" in detail, detail


async def test_every_search_is_recorded_as_a_consultation_with_its_purpose(hub):
    client = hub.client
    found = await client.post("/search/people", json={"given": "Robert", "family": "Smith"}, headers=WHO)
    assert found.json()[0]["person_id"] == "p1"
    refused = await client.post("/search/people", json={"family": "Smith"})
    assert refused.status_code == 400
    log = hub.app.state.hub.audit.log
    about_him = await log.find(AuditQuery(subject=SubjectRef(type="POLESTAR", value="p1")))
    [search] = [
        r for r in about_him if r.operation is Operation.CONSULTATION and r.service == "polestar-search"
    ]
    # The actor is the verified caller: the token's subject.
    assert search.actor.person == "user:pc1234"
    assert search.purpose == WHO["X-Polestar-Purpose"]
    searches = await log.find(AuditQuery(system="polestar-search"))
    assert [r.outcome for r in searches] == [Outcome.SUCCEEDED]
    # The search without a purpose was refused by policy before it ran, and that is recorded too.
    decisions = await log.find(AuditQuery(operation=Operation.ACCESS_DECISION))
    assert any(
        r.outcome is Outcome.REFUSED
        and r.details.get("policies") == ["purpose-required-to-read-personal-data"]
        for r in decisions
    )


async def test_erasing_a_person_takes_them_out_of_search(hub):
    client = hub.client
    ceri = {"given": "Ceri", "family": "Vaughan", "date_of_birth": "1979-11-30"}
    assert (await client.post("/search/people", json=ceri, headers=WHO)).json()[0]["person_id"] == "p3"
    component = hub.app.state.hub.store
    summary = await component.store.erase_subject("p3", actor="user:dpo1", reason="s47 request 2026/17")
    assert summary.complete
    assert summary.hook_rows["search"] > 0
    assert (await client.post("/search/people", json=ceri, headers=WHO)).json() == []
    around = (await client.get("/search/links/p2", params={"kind": "person"}, headers=WHO)).json()
    assert [r["entity_id"] for r in around["linked"]] == ["p1"]
