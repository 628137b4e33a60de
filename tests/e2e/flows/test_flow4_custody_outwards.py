"""Flow 4, custody outwards, through the hub and the simulators, in both profiles."""

from __future__ import annotations

import httpx

from polestar.demo.contract import Force
from polestar.demo.flows.custody import CustodyOutwardsFlow
from polestar.sims.footwear import SUBJECT_FIELDS


async def test_custody_records_reach_the_warehouse_and_only_minimal_detainees_reach_footwear(
    force: Force,
) -> None:
    outcome = await CustodyOutwardsFlow(timeout=20).run(force, count=5, progress=lambda _: None)

    assert outcome.ok, outcome.problems
    assert outcome.messages == 5
    assert outcome.dead_letters == 0
    async with httpx.AsyncClient() as http:
        footwear = force.sims["footwear"]
        violations = (await http.get(f"{footwear}/_sim/violations")).json()["violations"]
        subjects = (await http.get(f"{footwear}/subjects")).json()["subjects"]
        batches = (await http.get(f"{force.sims['warehouse']}/batches")).json()["batches"]
    assert violations == []
    assert subjects, "no detainee reached the footwear database"
    for subject in subjects:
        assert set(subject) - {"reference"} <= SUBJECT_FIELDS
        assert "address" not in subject
    assert batches
    assert all(batch["status"] == "loaded" for batch in batches), batches
