"""The officer device against a stand-in hub (SSE dispatches, checks, status to CAD); all sims at once."""

import asyncio
import json

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Mount, Route

from polestar.sims import cad, serve_all
from polestar.sims.device import DevicePaths, OfficerDevice, parse_sse
from polestar.sims.serving import serve
from polestar.sims.synthetic import World

CALL = {"description": "fight outside the pub", "location": {"street": "1 High Street", "town": "Leeds"}}


def stand_in_hub(cad_app, incidents):
    checks = []

    async def dispatches(request: Request):
        async def stream():
            yield ": connected\n\n"
            for i, number in enumerate(incidents, start=1):
                yield f"id: {i}\nevent: dispatch\ndata: {json.dumps({'incidentNumber': number})}\n\n"
                yield "event: heartbeat\ndata: {}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def check(request: Request):
        checks.append({"headers": dict(request.headers), "body": await request.json()})
        return JSONResponse({"matches": 0})

    app = Starlette(
        routes=[
            Route("/api/devices/{device}/dispatches", dispatches),
            Route("/api/checks/person", check, methods=["POST"]),
            Route("/api/checks/vehicle", check, methods=["POST"]),
            Mount("/cad", app=cad_app),
        ]
    )
    return app, checks


async def test_a_device_takes_dispatches_and_sends_status_that_cad_accepts_in_order():
    world = World.build(61, people=200, vehicles=20)
    cad_app = cad.create_app(world, units=("CX21",))
    sim = cad_app.state.cad
    first = sim.create(cad.CallIn(**CALL))
    sim.units["CX21"] = None  # free the unit so the second call gets it too, as after clearing
    second = sim.create(cad.CallIn(**CALL))
    second.units = {"CX21": "ASSIGNED"}
    hub, checks = stand_in_hub(cad_app, [first.number, second.number])
    async with serve(hub) as url:
        device = OfficerDevice(
            url, device_id="IVMA-CX21", call_sign="CX21", officer_id="PC4471",
            paths=DevicePaths(status="/cad/incidents/{incident}/status"),
        )  # fmt: skip
        try:
            handled = await asyncio.wait_for(device.run(max_dispatches=2), 10)
            await device.person_check(surname="OKAFOR", date_of_birth="1994-03-17", reason="2")
            await device.vehicle_check("AB12 CDE", reason="3")
        finally:
            await device.aclose()
        await sim.outbox.close()
    assert [d.incident for d in handled] == [first.number, second.number]
    assert [s["status"] for s in sim.incidents[first.number].status_log] == [
        "GRADED", "ASSIGNED", "ENROUTE", "ONSCENE", "CLEARED",
    ]  # fmt: skip
    assert [(s["incident"], s["sequence"]) for s in device.sent][:3] == [
        (first.number, 1),
        (first.number, 2),
        (first.number, 3),
    ]
    assert checks[0]["body"] == {
        "surname": "OKAFOR",
        "dateOfBirth": "1994-03-17",
        "reason": "2",
        "officer": "PC4471",
    }
    assert checks[0]["headers"]["x-device-id"] == "IVMA-CX21"
    assert checks[1]["body"]["vrm"] == "AB12 CDE"


async def test_sse_parsing_joins_data_lines_and_skips_comments():
    async def lines():
        for line in [": hi", "event: dispatch", "id: 7", 'data: {"a":', "data: 1}", "", "data: x", ""]:
            yield line

    events = [e async for e in parse_sse(lines())]
    assert events == [("dispatch", '{"a":\n1}', "7"), ("message", "x", "7")]


async def test_a_refused_stream_raises_a_device_error():
    app = Starlette(routes=[Route("/api/devices/{device}/dispatches", lambda r: JSONResponse({}, 403))])
    async with serve(app) as url:
        device = OfficerDevice(url, device_id="D1", call_sign="CX1", officer_id="PC1")
        try:
            with pytest.raises(Exception, match="HTTP 403"):
                async for _ in device.dispatches(reconnect=False):
                    pass
        finally:
            await device.aclose()


async def test_every_simulator_runs_in_one_process_on_its_own_port(tmp_path):
    async with serve_all(7, base_port=0, data_dir=tmp_path, people=300) as urls:
        assert list(urls) == ["pnc", "cad", "call-handling", "crime-recording", "custody", "warehouse",
                              "footwear", "prosecutor", "intelligence"]  # fmt: skip
        async with httpx.AsyncClient() as client:
            states = [(await client.get(f"{url}/_sim/state")).json() for url in urls.values()]
    assert [s["outage"] for s in states] == [False] * 9
    assert len(list((tmp_path / "custody").glob("custody-episodes-*.csv"))) == 1
