"""Flow 2, dispatch to the car, through the hub, the CAD simulator and officer devices, in both profiles."""

from __future__ import annotations

import httpx

from polestar.demo.contract import Force
from polestar.demo.flows.dispatch import DispatchFlow


async def test_incidents_reach_the_assigned_units_device_and_status_returns_to_cad_in_order(
    force: Force,
) -> None:
    outcome = await DispatchFlow(timeout=20).run(force, count=4, progress=lambda _: None)

    assert outcome.ok, outcome.problems
    assert outcome.messages == 4
    assert outcome.dead_letters == 0
    async with httpx.AsyncClient(timeout=10) as http:
        incidents = (await http.get(f"{force.sims['cad']}/incidents")).json()["incidents"]
    for incident in incidents:
        assert incident["status"] == "CLEARED", incident
