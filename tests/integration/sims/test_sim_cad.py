"""The CAD simulator: incidents from calls, ordered events out to a webhook, unit status in."""

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response

from polestar.mapping import MappingContext, load_mappings
from polestar.sims import cad
from polestar.sims.serving import serve
from polestar.sims.synthetic import World

MAPPINGS = Path(__file__).parents[3] / "examples" / "integration" / "mappings"
CALL = {
    "description": "caller reports a man threatening staff with a knife at a shop on the Strand",
    "location": {"premises": "Strand News", "street": "431 Strand", "town": "London", "postcode": "WC2R 0QE",
                 "lat": 51.5101, "lon": -0.1223},
    "caller": {"name": "Bob Smyth", "phone": "07700 900123"},
}  # fmt: skip


class Receiver:
    """A stand-in for the hub's HTTP ingest: records what arrives, can be made to fail."""

    def __init__(self):
        self.events = []
        self.failing = False
        self.app = FastAPI()

        @self.app.post("/ingest/cad")
        async def ingest(request: Request):
            if self.failing:
                return Response(status_code=503)
            self.events.append(await request.json())
            return Response(status_code=202)


@pytest.fixture(scope="module")
def world():
    return World.build(31, people=400, vehicles=100)


@pytest.fixture
async def receiver():
    receiver = Receiver()
    async with serve(receiver.app) as url:
        receiver.url = f"{url}/ingest/cad"
        yield receiver


@pytest.fixture
async def cad_app(world, receiver):
    app = cad.create_app(world, webhook_url=receiver.url, units=("CX21", "CX30"))
    yield app
    await app.state.cad.outbox.close()


@pytest.fixture
async def client(cad_app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=cad_app), base_url="http://cad") as c:
        yield c


async def test_a_call_becomes_a_graded_incident_with_a_unit(client):
    response = await client.post("/calls", json=CALL)
    assert response.status_code == 201
    incident = response.json()
    assert incident["incidentNumber"].startswith("INC-")
    assert incident["grade"] == "G1"
    assert incident["status"] == "ASSIGNED"
    assert incident["units"] == [{"callSign": "CX21", "assigned": True}]
    assert [s["status"] for s in incident["statusLog"]] == ["GRADED", "ASSIGNED"]


@pytest.mark.parametrize(
    ("description", "grade"),
    [
        ("burglary at the house next door", "G2"),
        ("graffiti on a wall", "G3"),
        ("lost property: a wallet", "G4"),
    ],
)
def test_calls_are_graded_by_keywords(description, grade):
    assert cad.grade_for(description) == grade


async def test_a_resolution_without_deployment_call_gets_no_unit(client):
    incident = (
        await client.post("/calls", json={**CALL, "description": "advice about a parking dispute"})
    ).json()
    assert incident["grade"] == "G4"
    assert incident["units"] == []


async def test_unit_status_flows_in_and_every_change_goes_out_in_order(client, cad_app, receiver):
    number = (await client.post("/calls", json=CALL)).json()["incidentNumber"]
    for sequence, status in enumerate(("EnRoute", "ONSCENE", "cleared"), start=1):
        response = await client.post(
            f"/incidents/{number}/status", json={"callSign": "cx21", "status": status, "sequence": sequence}
        )
        assert response.status_code == 200, response.text
    assert response.json()["status"] == "CLEARED"
    await cad_app.state.cad.outbox.drain()
    mine = [e for e in receiver.events if e["incidentNumber"] == number]
    assert [e["sequence"] for e in mine] == [1, 2, 3, 4, 5]
    assert [e["eventType"] for e in mine] == [
        "INCIDENT_CREATED", "UNIT_ASSIGNED", "UNIT_STATUS", "UNIT_STATUS", "UNIT_CLEARED",
    ]  # fmt: skip
    assert mine[-1]["units"] == [{"callSign": "CX21", "assigned": False}]
    units = (await client.get("/units")).json()["units"]
    assert {"callSign": "CX21", "incident": None} in units


async def test_cad_refuses_bad_status_updates_with_reasons(client):
    number = (await client.post("/calls", json=CALL)).json()["incidentNumber"]
    status = f"/incidents/{number}/status"
    skip = await client.post(status, json={"callSign": "CX21", "status": "ONSCENE", "sequence": 1})
    assert skip.status_code == 409
    assert "cannot go from ASSIGNED to ONSCENE" in skip.json()["detail"]
    assert (
        await client.post(status, json={"callSign": "CX21", "status": "ENROUTE", "sequence": 2})
    ).status_code == 200
    late = await client.post(status, json={"callSign": "CX21", "status": "ONSCENE", "sequence": 1})
    assert late.status_code == 409
    assert "out of order" in late.json()["detail"]
    stranger = await client.post(status, json={"callSign": "ZZ99", "status": "ENROUTE"})
    assert stranger.status_code == 409
    assert "not assigned" in stranger.json()["detail"]
    nonsense = await client.post(status, json={"callSign": "CX21", "status": "DANCING"})
    assert nonsense.status_code == 422
    assert (
        await client.post("/incidents/INC-0-0/status", json={"callSign": "CX21", "status": "ENROUTE"})
    ).status_code == 404


async def test_events_wait_for_the_webhook_to_come_back_and_keep_their_order(client, cad_app, receiver):
    receiver.failing = True
    number = (await client.post("/calls", json=CALL)).json()["incidentNumber"]
    await client.post(
        f"/incidents/{number}/status", json={"callSign": "CX21", "status": "ENROUTE", "sequence": 1}
    )
    await asyncio.sleep(0.3)
    assert not [e for e in receiver.events if e["incidentNumber"] == number]
    pending = (await client.get("/_sim/events")).json()["events"]
    assert pending[0]["status"] == "pending"
    assert pending[0]["attempts"] >= 1
    receiver.failing = False
    await cad_app.state.cad.outbox.drain()
    assert [e["sequence"] for e in receiver.events if e["incidentNumber"] == number] == [1, 2, 3]


async def test_a_crime_reference_is_linked_to_the_incident(client):
    number = (await client.post("/calls", json=CALL)).json()["incidentNumber"]
    linked = await client.put(
        f"/incidents/{number}/crime-reference", json={"crimeReference": "CRI-2026-000001"}
    )
    assert linked.json()["crimeReference"] == "CRI-2026-000001"


async def test_generated_calls_come_from_the_shared_world(client, world):
    made = (await client.post("/_sim/generate", json={"count": 5})).json()["incidents"]
    incidents = [(await client.get(f"/incidents/{n}")).json() for n in made]
    postcodes = {p.address.postcode for p in world.places}
    assert all(i["location"]["postcode"] in postcodes for i in incidents)


async def test_cad_events_are_what_the_example_cad_mapping_reads(client, cad_app, receiver):
    number = (await client.post("/calls", json=CALL)).json()["incidentNumber"]
    await client.post(
        f"/incidents/{number}/status", json={"callSign": "CX21", "status": "ENROUTE", "sequence": 1}
    )
    await cad_app.state.cad.outbox.drain()
    mapping = load_mappings([MAPPINGS]).inbound("cad-incident-json")
    context = MappingContext(
        connector="cad", source="/connectors/cad", where="cad", received_at=datetime.now(UTC)
    )
    for event in [e for e in receiver.events if e["incidentNumber"] == number]:
        mapped = mapping.to_canonical(event, context)
        incident = next(m for m in mapped if m.type == "incident.created")
        assert incident.data["reference"] == number
        assert incident.data["grade"] == "immediate"
