"""Dispatch to the car and status back, through a served hub, the CAD simulator and the bus."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from polestar.demo.contract import Force
from polestar.demo.flows.checks import officer_token
from polestar.sims.device import Dispatch, OfficerDevice

pytestmark = pytest.mark.slow


async def _eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def _position(http: httpx.AsyncClient, force: Force, device: str) -> int:
    async def position() -> int | None:
        state = (await http.get(f"{force.hub_url}/api/devices/{device}", headers=force.hub_headers())).json()
        return None if state["position"] is None else int(state["position"]) + 1

    return int(await _eventually(position)) - 1


async def _next_dispatch(device: OfficerDevice) -> Dispatch:
    async with asyncio.timeout(15):
        async for dispatch in device.dispatches(reconnect=False):
            return dispatch
    raise AssertionError("the stream ended without a dispatch")


async def _call(http: httpx.AsyncClient, force: Force, what: str) -> dict[str, Any]:
    answer = await http.post(
        f"{force.sims['cad']}/calls", json={"description": what, "location": {"town": "London"}}
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def test_a_device_gets_its_dispatch_and_resumes_what_it_missed_with_last_event_id(
    gateway_force: Force,
) -> None:
    force = gateway_force
    async with httpx.AsyncClient(timeout=10) as http:
        position = await _position(http, force, "IVMA-CX21")
        device = OfficerDevice(
            force.hub_url,
            device_id="IVMA-CX21",
            call_sign="CX21",
            officer_id="PC1",
            token=await officer_token(force, "PC1", "IVMA-CX21"),
            last_event_id=str(position),
        )
        first = await _call(http, force, "fight outside the Red Lion")
        assert first["units"][0]["callSign"] == "CX21"
        dispatch = await _next_dispatch(device)
        assert dispatch.incident == first["incidentNumber"]
        assert dispatch.data["assignedUnits"] == ["CX21"]
        # The device goes out of coverage once it has attended: CAD frees the unit when CLEARED arrives.
        await device.respond(dispatch)
        await device.aclose()

        async def cleared() -> bool:
            held = (await http.get(f"{force.sims['cad']}/incidents/{first['incidentNumber']}")).json()
            return [s["status"] for s in held["statusLog"]] == [
                "GRADED",
                "ASSIGNED",
                "ENROUTE",
                "ONSCENE",
                "CLEARED",
            ]

        await _eventually(cleared)
        second = await _call(http, force, "burglary reported at the flat above the Red Lion")
        assert second["units"][0]["callSign"] == "CX21"
        await asyncio.sleep(0.3)  # dispatched while the device is away

        back = OfficerDevice(
            force.hub_url,
            device_id="IVMA-CX21",
            call_sign="CX21",
            officer_id="PC1",
            token=await officer_token(force, "PC1", "IVMA-CX21"),
            last_event_id=device.last_event_id,
        )
        try:
            missed = await _next_dispatch(back)
        finally:
            await back.aclose()
    assert missed.incident == second["incidentNumber"]
    assert int(missed.event_id or 0) > int(dispatch.event_id or 0)


async def test_another_units_dispatch_does_not_reach_this_device(gateway_force: Force) -> None:
    force = gateway_force
    async with httpx.AsyncClient(timeout=10) as http:
        position = await _position(http, force, "IVMA-CX22")
        first = await _call(http, force, "fight outside the Crown")  # CX21, the first free unit
        second = await _call(http, force, "fight outside the Anchor")  # then CX22
        device = OfficerDevice(
            force.hub_url,
            device_id="IVMA-CX22",
            call_sign="CX22",
            officer_id="PC2",
            token=await officer_token(force, "PC2", "IVMA-CX22"),
            last_event_id=str(position),
        )
        try:
            got = await _next_dispatch(device)
        finally:
            await device.aclose()
    assert first["units"][0]["callSign"] == "CX21"
    assert got.incident == second["incidentNumber"]


async def test_status_out_of_order_is_refused_naming_expected_and_got_and_a_repeat_is_idempotent(
    gateway_force: Force,
) -> None:
    status = f"{gateway_force.hub_url}/api/incidents/INC-TEST-0001/status"
    token = await officer_token(gateway_force, "PC30", "IVMA-CX30")
    headers = {"X-Device-Id": "IVMA-CX30", "Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=10, headers=headers) as http:
        early = await http.post(status, json={"callSign": "CX30", "status": "ONSCENE", "sequence": 2})
        first = await http.post(status, json={"callSign": "CX30", "status": "ENROUTE", "sequence": 1})
        again = await http.post(status, json={"callSign": "CX30", "status": "ENROUTE", "sequence": 1})
        changed = await http.post(status, json={"callSign": "CX30", "status": "CLEARED", "sequence": 1})
        unknown = await http.post(status, json={"callSign": "CX30", "status": "LUNCH", "sequence": 2})
        bad_path = await http.post(
            f"{gateway_force.hub_url}/api/incidents/INC.1/status",
            json={"callSign": "CX30", "status": "ENROUTE", "sequence": 1},
        )
    assert early.status_code == 409
    assert early.json()["detail"].endswith("expected sequence 1, got 2")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "en-route"
    assert first.json()["duplicate"] is False
    assert again.status_code == 200
    assert again.json() == {**first.json(), "duplicate": True}
    assert changed.status_code == 409
    assert "expected sequence 2, got 1" in changed.json()["detail"]
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "status"]
    assert bad_path.status_code == 422
    assert bad_path.json()["errors"][0]["loc"] == ["path", "incident"]


async def test_a_last_event_id_the_hub_never_sent_is_refused(gateway_force: Force) -> None:
    token = await officer_token(gateway_force, "PC1", "IVMA-CX21")
    async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        answer = await http.get(
            f"{gateway_force.hub_url}/api/devices/IVMA-CX21/dispatches", headers={"Last-Event-ID": "abc"}
        )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["header", "Last-Event-ID"]


async def test_a_device_cannot_read_another_devices_feed_or_report_another_units_status(
    gateway_force: Force,
) -> None:
    token = await officer_token(gateway_force, "PC1", "IVMA-CX21")
    hub = gateway_force.hub_url
    async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {token}"}) as http:
        own = await http.get(f"{hub}/api/devices/IVMA-CX21")
        other = await http.get(f"{hub}/api/devices/IVMA-CX22")
        other_feed = await http.get(f"{hub}/api/devices/IVMA-CX22/dispatches")
        as_another = await http.post(
            f"{hub}/api/incidents/INC-TEST-0002/status",
            json={"callSign": "CX22", "status": "ENROUTE", "sequence": 1},
        )
        spoofed = await http.post(
            f"{hub}/api/incidents/INC-TEST-0002/status",
            json={"callSign": "CX22", "status": "ENROUTE", "sequence": 1},
            headers={"X-Device-Id": "IVMA-CX22"},
        )
    assert own.status_code == 200, own.text
    assert own.json()["callSign"] == "CX21"
    assert other.status_code == other_feed.status_code == 403
    assert "device.read is not allowed" in other_feed.json()["detail"]
    assert as_another.status_code == 403
    assert "rides with CX21" in as_another.json()["detail"]
    assert spoofed.status_code == 403
    assert "bound to device IVMA-CX21" in spoofed.json()["detail"]
