"""The search router on a bare FastAPI app: people, vehicles with wildcards, links, pre-fill."""

from __future__ import annotations

import httpx
import pytest
from _search_helpers import T0, person, put
from fastapi import FastAPI

from polestar.model import Link, Location, Vehicle, to_envelope
from polestar.search.api import SearchServices, create_search_router
from polestar.search.place_index import PlaceIndex

PROV = {"organisation": "01", "system": "pnc", "observed_at": T0, "recorded_at": T0}


async def _apply(store, entity, kind):
    await store.apply(
        to_envelope(entity, type=f"{kind}.updated", source="/connectors/test", actor="system:t")
    )


@pytest.fixture
async def client(indexed):
    store, index = indexed
    await put(store, person("p1", "Robert", "Smith", date_of_birth="1985-06-14"))
    await _apply(
        store,
        Vehicle(id="v1", registration={"mark": "AB12 CDE"}, make="Ford", model="Focus", provenance=PROV),
        "vehicle",
    )
    await _apply(
        store,
        Vehicle(id="v2", registration={"mark": "AB12 CDF"}, make="Vauxhall", provenance=PROV),
        "vehicle",
    )
    await _apply(store, Location(id="l1", description="rear of the Red Lion", provenance=PROV), "location")
    for lid, role, end in (("k1", "keeper", ("vehicle", "v1")), ("k2", "resident", ("location", "l1"))):
        link = Link(
            id=lid,
            role=role,
            from_ref={"type": "person", "id": "p1"},
            to_ref={"type": end[0], "id": end[1]},
            provenance=PROV,
        )
        await store.apply(to_envelope(link, type="link.created", source="/connectors/test", actor="system:t"))
    await index.rebuild()
    places = PlaceIndex(store.engine)
    await places.start()
    await places.rebuild()
    app = FastAPI()
    app.include_router(create_search_router(SearchServices(store, index, places)))
    transport = httpx.ASGITransport(app=app)
    headers = {"X-Polestar-Actor": "user:pc1234"}
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test", headers=headers) as http:
        yield http


async def test_people_search_returns_banded_explained_results(client):
    response = await client.post(
        "/search/people", json={"given": "Bob", "family": "Smyth", "date_of_birth": "1985"}
    )
    assert response.status_code == 200
    [match] = response.json()
    assert match["person_id"] == "p1"
    assert match["band"] in {"strong", "possible"}
    assert {f["field"] for f in match["fields"]} >= {"given", "family", "birth"}


async def test_people_search_refuses_a_query_without_a_name(client):
    assert (await client.post("/search/people", json={"date_of_birth": "1985"})).status_code == 422


async def test_vehicle_search_takes_wildcards_and_filters(client):
    both = (await client.post("/search/vehicles", json={"registration": "ab12 cd?"})).json()
    assert [v["vehicle_id"] for v in both] == ["v1", "v2"]
    ford = (await client.post("/search/vehicles", json={"registration": "AB12*", "make": "ford"})).json()
    assert [v["vehicle_id"] for v in ford] == ["v1"]
    assert ford[0]["matched"] == ["registration", "make"]


async def test_links_within_hops(client):
    response = await client.get("/search/links/p1", params={"hops": 1})
    assert {a["entity_id"] for a in response.json()["linked"]} == {"v1", "l1"}
    assert (await client.get("/search/links/nobody")).status_code == 404


async def test_a_search_without_an_actor_is_refused_naming_the_header(client):
    response = await client.post("/search/vehicles", json={"make": "Ford"}, headers={"X-Polestar-Actor": ""})
    assert response.status_code == 422


async def test_prefill_returns_people_places_and_vehicles_ready_to_attach(client):
    body = {
        "people": [{"given": "Robert", "family": "Smith", "date_of_birth": "1985-06-14"}],
        "vehicles": [{"registration": "AB12CDE"}],
    }
    response = await client.post("/prefill", json=body)
    assert response.status_code == 200
    result = response.json()
    [robert] = result["people"][0]["suggestions"]
    assert robert["attach"] == {"type": "person", "id": "p1"}
    assert {(r["entity_id"], r["kind"]) for r in robert["linked"]} == {("l1", "location"), ("v1", "vehicle")}
    assert [v["attach"]["id"] for v in result["vehicles"][0]["suggestions"]] == ["v1"]
