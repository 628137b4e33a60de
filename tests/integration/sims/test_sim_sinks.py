"""Footwear (data minimisation asserted by the sim), crime, prosecutor, intelligence, call handling."""

import asyncio
import re

import httpx
import pytest

from polestar.sims import calls, crime, footwear, intelligence, prosecutor
from polestar.sims.synthetic import World

SUBJECT_XML = b"""<FootwearSubject custodyRef="01CX/004512/26" force="01">
  <PNCId>2012/0052494Q</PNCId><Surname>OKAFOR</Surname><Forename>Daniel</Forename>
  <DateOfBirth>17/03/1994</DateOfBirth><Sex>M</Sex></FootwearSubject>"""


def client_for(app, name):
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")


async def test_footwear_takes_the_minimal_subject_record_as_the_mapping_writes_it():
    app = footwear.create_app()
    async with client_for(app, "nfd") as client:
        response = await client.post(
            "/subjects", content=SUBJECT_XML, headers={"Content-Type": "application/xml"}
        )
        assert response.status_code == 201, response.text
        assert response.json()["reference"].startswith("NFD-")
        assert (await client.get("/subjects")).json()["subjects"][0]["custodyRef"] == "01CX/004512/26"


async def test_footwear_refuses_a_field_it_must_not_receive_and_records_the_violation():
    app = footwear.create_app()
    record = {
        "custodyRef": "01CX/004512/26",
        "Surname": "OKAFOR",
        "address": "14 Acacia Avenue",
        "NINO": "JT471293B",
    }
    async with client_for(app, "nfd") as client:
        response = await client.post("/subjects", json=record, headers={"Idempotency-Key": "ev-1"})
        assert response.status_code == 422
        assert {e["field"] for e in response.json()["errors"]} == {"address", "NINO"}
        assert "data minimisation" in response.json()["errors"][0]["reason"]
        xml = SUBJECT_XML.replace(b"<Sex>M</Sex>", b"<Sex>M</Sex><Phone>07700900123</Phone>")
        assert (
            await client.post("/subjects", content=xml, headers={"Content-Type": "text/xml"})
        ).status_code == 422
        violations = (await client.get("/_sim/violations")).json()["violations"]
        assert [v["fields"] for v in violations] == [["address", "NINO"], ["Phone"]]
        assert "14 Acacia Avenue" not in str(violations)  # it records which fields, never their values
        assert (await client.get("/subjects")).json()["subjects"] == []


async def test_footwear_validates_and_replays_by_idempotency_key():
    app = footwear.create_app()
    impression = {
        "custodyRef": "01CX/004512/26",
        "force": "01",
        "impressionId": "FW-1",
        "takenAt": "2026-11-23T22:10:00",
    }
    async with client_for(app, "nfd") as client:
        first = await client.post("/impressions", json=impression, headers={"Idempotency-Key": "k1"})
        again = await client.post("/impressions", json=impression, headers={"Idempotency-Key": "k1"})
        assert first.status_code == again.status_code == 201
        assert first.json() == again.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert len((await client.get("/impressions")).json()["impressions"]) == 1
        bad = await client.post(
            "/subjects", json={"custodyRef": "x", "Surname": "A", "PNCId": "2012/0052494R", "Sex": "Q"}
        )
        assert {e["field"] for e in bad.json()["errors"]} == {"PNCId", "Sex"}


REPORT = {
    "offence": "theft from a shop",
    "occurredFrom": "2026-11-23T21:05:00",
    "summary": "shoplifter detained by staff",
    "reportingOfficer": "PC 4471",
    "location": {"street": "431 Strand", "town": "London", "postcode": "WC2R 0QE"},
    "incidentNumber": "INC-20261123-0311",
    "people": [{"role": "suspect", "surname": "OKAFOR", "forenames": "Daniel", "dob": "17/03/1994"}],
}


async def test_crime_recording_gives_a_reference_once_per_idempotency_key():
    app = crime.create_app()
    async with client_for(app, "crime") as client:
        first = await client.post("/crime-reports", json=REPORT, headers={"Idempotency-Key": "ev-9"})
        assert first.status_code == 201
        reference = first.json()["crimeReference"]
        assert re.fullmatch(r"CRI-\d{4}-\d{6}", reference)
        assert first.headers["location"] == f"/crime-reports/{reference}"
        again = await client.post("/crime-reports", json=REPORT, headers={"Idempotency-Key": "ev-9"})
        assert again.json()["crimeReference"] == reference
        other = await client.post(
            "/crime-reports", json={**REPORT, "summary": "x"}, headers={"Idempotency-Key": "ev-9"}
        )
        assert other.status_code == 422
        assert (await client.get(f"/crime-reports/{reference}")).json()["report"][
            "offence"
        ] == "theft from a shop"


async def test_crime_recording_lists_every_problem_by_field():
    app = crime.create_app()
    bad = {"offence": "", "occurredFrom": "yesterday", "location": {"postcode": "NOT A PC"}, "colour": "red",
           "people": [{"role": "bystander"}]}  # fmt: skip
    async with client_for(app, "crime") as client:
        response = await client.post("/crime-reports", json=bad)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "offence", "summary", "reportingOfficer", "colour", "occurredFrom",
        "location.street", "location.postcode",
        "people[0].role", "people[0].surname",
    }  # fmt: skip


CASE = {
    "urn": "01CX1234526",
    "version": 1,
    "defendants": [{"surname": "OKAFOR", "forenames": "Daniel"}],
    "charges": [{"defendant": 0, "offence": "robbery", "code": "034/01"}],
    "summary": "",
}


async def test_the_prosecutor_acknowledges_rejects_with_reasons_and_accepts_a_resubmission():
    app = prosecutor.create_app(decision_delay=0.05)
    async with client_for(app, "cps") as client:
        ack = await client.post("/case-files", json=CASE)
        assert ack.status_code == 202
        ack_id = ack.json()["acknowledgementId"]
        assert (await client.get(f"/case-files/{ack_id}")).json()["status"] == "RECEIVED"
        await asyncio.sleep(0.06)
        decision = (await client.get(f"/case-files/{ack_id}")).json()
        assert decision["status"] == "REJECTED"
        assert decision["reasons"] == ["defendant 0 has no date of birth", "no MG5 case summary"]
        assert (await client.post("/case-files", json=CASE)).status_code == 409
        defendant = {"surname": "OKAFOR", "forenames": "Daniel", "dob": "1994-03-17"}
        fixed = {**CASE, "version": 2, "summary": "MG5: phone snatched", "defendants": [defendant]}
        second = (await client.post("/case-files", json=fixed)).json()["acknowledgementId"]
        await asyncio.sleep(0.06)
        assert (await client.get(f"/case-files/{second}")).json()["status"] == "ACCEPTED"
        versions = (await client.get(f"/cases/{CASE['urn']}")).json()["versions"]
        assert [(v["version"], v["status"]) for v in versions] == [(1, "REJECTED"), (2, "ACCEPTED")]


async def test_the_intelligence_feed_takes_only_agreed_fields_when_it_has_an_allow_list():
    app = intelligence.create_app(allowed_fields={"type", "id", "name.family", "name.given"})
    async with client_for(app, "intel") as client:
        good = [{"type": "person", "id": "1", "name": {"family": "OKAFOR", "given": "Daniel"}}]
        assert (
            await client.post("/feed", json={"records": good}, headers={"Idempotency-Key": "b1"})
        ).status_code == 202
        assert (await client.post("/feed", json={"records": good}, headers={"Idempotency-Key": "b1"})).json()[
            "duplicate"
        ]
        bad = [*good, {"type": "person", "id": "2", "name": {"family": "X", "title": "Mr"}, "address": "x"}]
        refused = await client.post("/feed", json={"records": bad})
        assert refused.status_code == 422
        assert {e["field"] for e in refused.json()["errors"]} == {
            "records[1].name.title",
            "records[1].address",
        }
        assert (await client.get("/feed/batches")).json()["batches"] == [
            {"batch": "FEED-000001", "records": 1}
        ]
        assert len((await client.get("/_sim/violations")).json()["violations"]) == 1


async def test_call_handling_feeds_calls_with_crime_indicators_by_cursor():
    world = World.build(51, people=300, vehicles=50)
    app = calls.create_app(world, initial=30)
    async with client_for(app, "calls") as client:
        page = (await client.get("/calls", params={"limit": 20})).json()
        assert len(page["calls"]) == 20
        rest = (await client.get("/calls", params={"after": page["next"]})).json()
        assert len(rest["calls"]) == 10
        every = page["calls"] + rest["calls"]
        assert any(c["crimeRelated"] and c["crimeIndicators"] for c in every)
        assert any(not c["crimeRelated"] for c in every)
        await client.post("/_sim/generate", json={"count": 2})
        assert len((await client.get("/calls", params={"after": rest["next"]})).json()["calls"]) == 2
    assert calls.make_call(world, 3) == calls.make_call(world, 3)


@pytest.mark.parametrize("factory", [footwear.create_app, crime.create_app, intelligence.create_app])
async def test_every_sink_has_an_outage_switch(factory):
    app = factory()
    async with client_for(app, "sink") as client:
        await client.post("/_sim/outage", json={"on": True})
        path = (
            "/feed"
            if factory is intelligence.create_app
            else "/subjects"
            if factory is footwear.create_app
            else "/crime-reports"
        )
        assert (await client.post(path, json={})).status_code == 503
        assert (await client.get("/_sim/state")).json()["outage"] is True
