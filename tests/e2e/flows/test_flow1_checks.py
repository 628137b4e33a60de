"""Flow 1, checks from the street, through the hub and PNC (both profiles), and PNC going down mid-run."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from polestar.demo.contract import Force
from polestar.demo.flows.checks import ChecksFlow, officer_token, pick_people
from polestar.devices.config import load_device_config
from polestar.sims.device import DeviceError, OfficerDevice


async def test_checks_flag_wanted_people_and_stolen_vehicles_and_pnc_logs_each_enquiry(force: Force) -> None:
    outcome = await ChecksFlow().run(force, count=4, progress=lambda _: None)

    assert outcome.ok, outcome.problems
    assert outcome.messages == 8
    assert len(outcome.latencies_ms) == 8


async def _once_pnc_is_back(device: OfficerDevice, pnc_id: str) -> dict[str, Any]:
    """The first answer once the breaker lets a probe through to the recovered PNC."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return await device.person_check(pnc_id=pnc_id, reason="2")
        except DeviceError as exc:
            if exc.status != 503 or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.25)


async def test_pnc_going_down_mid_run_fails_checks_fast_and_they_succeed_when_it_returns(
    force: Force,
) -> None:
    person = pick_people(force.world, 1)[0]
    assert person.pnc_id is not None
    device = OfficerDevice(
        force.hub_url,
        device_id="TAB-0007",
        call_sign="CX21",
        officer_id="PC4471",
        token=await officer_token(force, "PC4471", "TAB-0007"),
    )
    pnc = force.sims["pnc"]
    assert force.config.integration_dir is not None
    gateway = load_device_config(force.config.integration_dir)
    assert gateway is not None
    timeout = gateway.checks.timeout
    async with httpx.AsyncClient(timeout=10) as http:
        try:
            before = await device.person_check(pnc_id=person.pnc_id, reason="2")
            assert before["people"][0]["pnc_id"] == person.pnc_id

            (await http.post(f"{pnc}/_sim/outage", json={"on": True})).raise_for_status()
            refusals: list[tuple[DeviceError, float]] = []
            for _ in range(6):
                started = time.monotonic()
                try:
                    await device.person_check(pnc_id=person.pnc_id, reason="2")
                except DeviceError as exc:
                    refusals.append((exc, time.monotonic() - started))
            assert len(refusals) == 6, "a check was answered while PNC was down"
            for refusal, took in refusals:
                assert refusal.status == 503
                assert "PNC unavailable" in refusal.detail
                # Fast means not waiting out the check's timeout; a loaded machine may be slow.
                assert took < timeout, f"a check took {took:.2f} s to fail"
            # Enough failures open the breaker: the next check does not even ask PNC. (The last
            # one might be a half-open probe on a machine slow enough for the breaker to reopen.)
            assert "circuit breaker open" in refusals[gateway.checks.breaker.failure_threshold][0].detail

            (await http.post(f"{pnc}/_sim/outage", json={"on": False})).raise_for_status()
            after = await _once_pnc_is_back(device, person.pnc_id)
        finally:
            await http.post(f"{pnc}/_sim/outage", json={"on": False})
            await device.aclose()
    assert after["people"][0]["pnc_id"] == person.pnc_id
