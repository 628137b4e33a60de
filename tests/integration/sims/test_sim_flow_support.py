"""What the flows 3, 4, 7 and 8 ask of the simulators beyond their first cut."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from polestar.sims import calls, crime, custody, intelligence, prosecutor, warehouse
from polestar.sims.synthetic import World

REPORT = {
    "offence": "theft",
    "occurredFrom": "2026-11-23T21:05:00",
    "summary": "phone snatched",
    "reportingOfficer": "Contact centre",
    "location": {"street": "431 Strand", "town": "London", "postcode": "WC2R 0QE"},
    "callReference": "CH-20261123-00017",
}
CASE_WITHOUT_DOB = {
    "urn": "01CX00451226",
    "version": 1,
    "defendants": [{"surname": "OKAFOR"}],
    "charges": [{"defendant": 0, "offence": "robbery"}],
    "summary": "MG5",
}


@pytest.fixture(scope="module")
def world() -> World:
    return World.build(7, people=300, vehicles=50)


def client_for(app, name: str) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")


async def test_call_handling_says_which_new_calls_are_crime_related_and_takes_a_webhook(world: World) -> None:
    app = calls.create_app(world, initial=0)
    async with client_for(app, "calls") as client:
        made = (await client.post("/_sim/generate", json={"count": 12})).json()
        hooked = await client.post("/_sim/webhook", json={"url": None, "headers": {"X": "1"}})
        refused = await client.post("/_sim/webhook", json={"url": None, "colour": "red"})
    related = {c["callId"] for c in app.state.calls if c["crimeRelated"]}
    assert set(made["crimeRelated"]) == related
    assert set(made["crimeRelated"]) <= set(made["calls"])
    assert hooked.json() == {"url": None}
    assert refused.status_code == 422


async def test_crime_recording_lists_the_reports_drafted_from_a_call() -> None:
    async with client_for(crime.create_app(), "crime") as client:
        created = await client.post("/crime-reports", json=REPORT)
        await client.post("/crime-reports", json={**REPORT, "callReference": "CH-20261123-00018"})
        mine = (await client.get("/crime-reports", params={"callReference": "CH-20261123-00017"})).json()
        everything = (await client.get("/crime-reports")).json()
    assert created.status_code == 201, created.text
    assert [r["crimeReference"] for r in mine["reports"]] == [created.json()["crimeReference"]]
    assert mine["reports"][0]["callReference"] == "CH-20261123-00017"
    assert len(everything["reports"]) == 2


async def test_custody_leaves_out_what_it_is_told_and_exports_a_correction(
    world: World, tmp_path: Path
) -> None:
    app = custody.create_app(world, folder=tmp_path)
    async with client_for(app, "custody") as client:
        made = (await client.post("/_sim/generate", json={"count": 1, "omit": ["dob"]})).json()
        (number,) = made["episodes"]
        blank = (await client.get(f"/episodes/{number}")).json()["booking"]
        corrected = await client.post(f"/episodes/{number}/correct", json={"values": {"dob": "17/03/1994"}})
        again = (await client.get(f"/episodes/{number}")).json()["booking"]
        unknown = await client.post("/episodes/01XX/9/26/correct", json={"values": {"dob": "17/03/1994"}})
        bad_column = await client.post("/_sim/generate", json={"count": 1, "omit": ["custody_no"]})
    assert blank["dob"] == ""
    assert corrected.status_code == 200, corrected.text
    assert again["dob"] == "17/03/1994"
    assert again["recorded"] != blank["recorded"]
    exported = [f for f in corrected.json()["files"] if f.startswith("custody-episodes-")]
    assert exported, "the correction is exported again"
    assert set(exported).isdisjoint(made["files"])
    assert unknown.status_code == 404
    assert bad_column.status_code == 422
    assert "custody_no" in bad_column.text


def _batch(folder: Path, name: str, body: bytes, manifest: object) -> None:
    (folder / name).write_bytes(body)
    (folder / f"{name}.manifest.json").write_text(json.dumps(manifest))


def test_the_warehouse_serves_the_rows_it_loaded_and_refuses_an_empty_manifest(tmp_path: Path) -> None:
    body = b"custody_record_number,custody_suite\r\n01CX/1/26,Brixton\r\n"
    manifest = {"format": "csv", "records": 1, "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
    _batch(tmp_path, "good.csv", body, manifest)
    _batch(tmp_path, "empty.csv", body, {})
    sink = warehouse.WarehouseSink(tmp_path)
    recorded = {b["file"]: b for b in sink.scan()}
    assert recorded["good.csv"]["status"] == "loaded"
    assert recorded["empty.csv"]["status"] == "rejected"
    assert sink.records == [
        {"batch": "good.csv", "record": {"custody_record_number": "01CX/1/26", "custody_suite": "Brixton"}}
    ]


async def test_the_intelligence_platform_enforces_an_agreement_put_in_place_while_running() -> None:
    async with client_for(intelligence.create_app(), "intel") as client:
        agreed = await client.post("/_sim/agreement", json={"allowed_fields": ["recordType", "surname"]})
        refused = await client.post("/feed", json={"records": [{"recordType": "person", "address": "x"}]})
        taken = await client.post("/feed", json={"records": [{"recordType": "person", "surname": "OKAFOR"}]})
        await client.post("/_sim/agreement", json={"allowed_fields": None})
        open_again = await client.post("/feed", json={"records": [{"anything": "goes"}]})
    assert agreed.json() == {"allowed_fields": ["recordType", "surname"]}
    assert refused.status_code == 422
    assert "records[0].address" in refused.text
    assert taken.status_code == 202
    assert open_again.status_code == 202


async def test_the_gateway_refuses_an_incomplete_case_file_on_receipt_and_takes_it_corrected() -> None:
    app = prosecutor.create_app(decision_delay=0.0, review_on_receipt=True)
    async with client_for(app, "gateway") as client:
        refused = await client.post("/case-files", json=CASE_WITHOUT_DOB, headers={"Idempotency-Key": "e1"})
        repeat = await client.post("/case-files", json=CASE_WITHOUT_DOB, headers={"Idempotency-Key": "e1"})
        corrected = {**CASE_WITHOUT_DOB, "defendants": [{"surname": "OKAFOR", "dob": "1994-03-17"}]}
        taken = await client.post("/case-files", json=corrected, headers={"Idempotency-Key": "e2"})
        replayed = await client.post("/case-files", json=corrected, headers={"Idempotency-Key": "e2"})
        stale = await client.post("/case-files", json=corrected, headers={"Idempotency-Key": "e3"})
        versions = (await client.get("/cases/01CX00451226")).json()["versions"]
    assert refused.status_code == 422
    assert refused.json()["reasons"] == ["defendant 0 has no date of birth"]
    assert "has no date of birth" in refused.json()["detail"]
    assert repeat.status_code == 422
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert taken.status_code == 202, taken.text
    assert replayed.json() == taken.json()
    assert stale.status_code == 409
    assert [(v["version"], v["status"]) for v in versions] == [(1, "REJECTED"), (1, "ACCEPTED")]
