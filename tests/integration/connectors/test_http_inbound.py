"""HTTP inbound on a real uvicorn server: 202 with event ids, 207/422 naming rejects, 413, 415."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import httpx
import pytest
from _support import (
    CustodyCsvMapping,
    LocalServer,
    Mappings,
    bus_envelopes,
    custody_csv,
    custody_spec,
    open_bus,
)
from fastapi import FastAPI

from polestar.connectors.codecs import RecordFormat
from polestar.connectors.http import HttpInbound, HttpInboundConfig, create_ingest_router
from polestar.connectors.ingest import BusIngest
from polestar.connectors.spec import ConnectorMappings, ConnectorSpec
from polestar.model.envelope import Envelope

LIMIT = 10 * 1024 * 1024


@pytest.fixture
async def hub(tmp_path):
    """A hub serving POST /ingest/custody-http (CSV) and /ingest/cad-events (CloudEvents) on a real port."""
    async with open_bus(tmp_path) as bus:
        endpoints = {
            "custody-http": HttpInbound("custody-http", HttpInboundConfig(max_body_bytes=LIMIT)),
            "cad-events": HttpInbound("cad-events", HttpInboundConfig()),
        }
        mappings = Mappings(CustodyCsvMapping())
        await endpoints["custody-http"].start(BusIngest(bus, mappings, custody_spec("custody-http")))
        await endpoints["cad-events"].start(
            BusIngest(bus, mappings, custody_spec("cad-events", fmt=RecordFormat.CLOUDEVENTS))
        )
        app = FastAPI()
        app.include_router(create_ingest_router(endpoints))
        async with LocalServer(app) as server, httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            yield client, bus


async def test_a_valid_csv_is_answered_202_with_the_event_ids_once_durable(hub):
    client, bus = hub
    body, _ = custody_csv(25, 0)
    response = await client.post("/ingest/custody-http", content=body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 25
    assert answer["rejected"] == []
    assert answer["event_ids"] == [e.id for e in await bus_envelopes(bus)]


async def test_a_partly_valid_batch_is_accepted_in_part_and_names_each_rejected_row(hub):
    client, bus = hub
    body, broken = custody_csv(25, 4)
    response = await client.post(
        "/ingest/custody-http", content=body, headers={"Content-Type": "text/csv", "X-Request-Id": "r-42"}
    )
    assert response.status_code == 207
    answer = response.json()
    assert answer["accepted"] == 21 == len(await bus_envelopes(bus))
    assert [r["where"] for r in answer["rejected"]] == [f"request r-42:{b.line}" for b in broken]
    assert all("record" not in r for r in answer["rejected"])  # personal data is not echoed back


async def test_a_batch_with_every_record_rejected_is_a_422_problem(hub):
    client, bus = hub
    body = b"custody_record_number,surname\r\n,Smith\r\n"
    response = await client.post("/ingest/custody-http", content=body, headers={"Content-Type": "text/csv"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["rejected"][0]["field"] == "custody_record_number"
    assert await bus_envelopes(bus) == []


async def test_cloudevents_structured_and_batched_are_accepted(hub):
    client, bus = hub
    one = Envelope(source="/sims/cad", type="incident.unit.assigned", subject="INC-1")
    two = Envelope(source="/sims/cad", type="incident.unit.assigned", subject="INC-2")
    first = await client.post(
        "/ingest/cad-events", content=one.to_json(), headers={"Content-Type": "application/cloudevents+json"}
    )
    batch = b"[" + two.to_json() + b"]"
    second = await client.post(
        "/ingest/cad-events", content=batch, headers={"Content-Type": "application/cloudevents-batch+json"}
    )
    assert (first.status_code, second.status_code) == (202, 202)
    assert [e.id for e in await bus_envelopes(bus)] == [one.id, two.id]


@pytest.mark.parametrize(
    ("path", "content_type", "body", "status", "says"),
    [
        ("/ingest/custody-http", "application/pdf", b"%PDF", 415, "text/csv"),
        ("/ingest/custody-http", "", b"a,b", 415, "Content-Type"),
        ("/ingest/custody-http", "text/csv", b"", 400, "no header"),
        ("/ingest/nobody", "text/csv", b"a\n1", 404, "nobody"),
        ("/ingest/cad-events", "application/cloudevents+json", b"{nope", 400, "not valid JSON"),
    ],
)
async def test_bad_requests_get_a_problem_saying_why(hub, path, content_type, body, status, says):
    client, _ = hub
    response = await client.post(path, content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]


async def test_hostile_xml_is_refused(tmp_path):
    async with open_bus(tmp_path) as bus:
        endpoint = HttpInbound("x", HttpInboundConfig())
        await endpoint.start(
            BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec("x", fmt=RecordFormat.XML))
        )
        app = FastAPI()
        app.include_router(create_ingest_router({"x": endpoint}))
        xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>'
        async with LocalServer(app) as server, httpx.AsyncClient(base_url=server.url) as client:
            response = await client.post(
                "/ingest/x", content=xxe, headers={"Content-Type": "application/xml"}
            )
    assert response.status_code == 400
    assert "DOCTYPE/entity declaration is refused" in response.json()["detail"]
    assert "root:" not in response.text


@pytest.mark.slow
async def test_a_100_mb_upload_is_refused_413_while_the_hub_keeps_serving(hub):
    client, bus = hub
    small, _ = custody_csv(3, 0)
    served_meanwhile: list[int] = []
    sent = 0
    midway = asyncio.Event()

    async def hundred_megabytes():
        nonlocal sent
        chunk = b"x" * (1024 * 1024)
        for n in range(100):
            if n == 5:
                midway.set()
                await asyncio.sleep(0.2)  # the upload is in flight, half read, while another request runs
            sent += len(chunk)
            yield chunk

    async def meanwhile():
        await midway.wait()
        response = await client.post(
            "/ingest/custody-http", content=small, headers={"Content-Type": "text/csv"}
        )
        served_meanwhile.append(response.status_code)

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=str(client.base_url), timeout=60) as uploader:
        big, _ = await asyncio.gather(
            uploader.post(
                "/ingest/custody-http", content=hundred_megabytes(), headers={"Content-Type": "text/csv"}
            ),
            meanwhile(),
        )
    elapsed = time.perf_counter() - started
    assert big.status_code == 413
    assert big.headers["content-type"] == "application/problem+json"
    assert f"limited to {LIMIT} bytes" in big.json()["detail"]
    assert served_meanwhile == [202]
    assert len(await bus_envelopes(bus)) == 3
    after = await client.post("/ingest/custody-http", content=small, headers={"Content-Type": "text/csv"})
    assert after.status_code == 202  # still serving
    print(f"\n100 MB upload refused after the client sent {sent / 2**20:.0f} MiB, in {elapsed:.2f}s")


async def test_a_declared_oversized_body_is_refused_before_it_is_read(hub):
    client, _ = hub
    response = await client.post(
        "/ingest/custody-http", content=b"x" * (LIMIT + 1), headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 413
    assert json.loads(response.text)["status"] == 413


async def test_a_record_its_mapping_makes_no_event_of_is_taken_with_200_and_named(tmp_path, caplog):
    # The force's CAD mapping makes CAD's crime-reference confirmation the hub's own link only for
    # an incident made from a call (callId): for any other incident it is no event, by design
    # (`ignore_when`). CAD must not be told its webhook body was unreadable.
    loader = pytest.importorskip("polestar.mapping.loader")
    folder = Path(__file__).parents[3] / "examples" / "force" / "integration" / "mappings"
    mappings = loader.MappingSet.from_directory(folder)
    spec = ConnectorSpec(
        name="cad",
        kind="http",
        format=RecordFormat.JSON,
        mapping=ConnectorMappings(inbound="cad-dispatch-json"),
    )
    event = {
        "eventType": "CRIME_REFERENCE_LINKED",
        "sequence": 4,
        "incidentNumber": "INC-20261124-0099",
        "created": "2026-11-24T01:59:10",
        "lastUpdated": "2026-11-24T02:00:07",
        "description": "walk-in report of a stolen bicycle",
        "grade": "G4",
        "status": "ASSIGNED",
        "statusLog": [{"status": "GRADED", "at": "2026-11-24T01:59:10"}],
        "units": [],
        "location": {"street": "12 Station Road", "town": "Leeds", "postcode": "LS6 2AB"},
        "crimeReference": "CRI-2026-000456",
    }
    caplog.set_level(logging.INFO, logger="polestar.connectors.ingest")
    async with open_bus(tmp_path) as bus:
        endpoint = HttpInbound("cad", HttpInboundConfig())
        await endpoint.start(BusIngest(bus, mappings.inbound, spec))
        app = FastAPI()
        app.include_router(create_ingest_router({"cad": endpoint}))
        async with LocalServer(app) as server, httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            taken = await client.post("/ingest/cad", json=event, headers={"X-Request-Id": "r-7"})
            made = await client.post(
                "/ingest/cad", json={**event, "callId": "CH-20261124-00031"}, headers={"X-Request-Id": "r-8"}
            )
            empty = await client.post(
                "/ingest/cad", content=b"[]", headers={"Content-Type": "application/json"}
            )
            misspelt = await client.post("/ingest/cad", json={**event, "eventType": "INCIDENT_CRATED"})
        published = await bus_envelopes(bus)
    assert taken.status_code == 200, taken.text
    assert taken.json()["accepted"] == 0
    assert taken.json()["rejected"] == []
    assert taken.json()["unmapped"] == ["request r-7"]
    assert made.status_code == 202, made.text
    assert [e.type for e in published] == ["link.created"]
    assert empty.status_code == 400  # no record at all is still a body that cannot be used
    # An event type the mapping neither maps nor ignores must not vanish: it is rejected, named.
    assert misspelt.status_code == 422, misspelt.text
    [rejected] = misspelt.json()["rejected"]
    assert rejected["field"] == "outputs"
    assert "no output of mapping 'cad-dispatch-json' applies" in rejected["reason"]
    assert "cad: 1 record(s) made no event under mapping cad-dispatch-json: request r-7" in caplog.text
