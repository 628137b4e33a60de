"""Flow 8, feed to intelligence, through the hub and the simulators, in both profiles."""

from __future__ import annotations

import httpx

from polestar.demo.contract import Force
from polestar.demo.flows.intelligence import AGREED_FIELDS, IntelligenceFeedFlow


async def test_new_people_and_arrests_reach_the_intelligence_platform_minimised_to_the_agreement(
    force: Force,
) -> None:
    outcome = await IntelligenceFeedFlow(timeout=20).run(force, count=4, progress=lambda _: None)

    assert outcome.ok, outcome.problems
    assert outcome.messages == 4
    assert outcome.dead_letters == 0
    async with httpx.AsyncClient() as http:
        platform = force.sims["intelligence"]
        records = (await http.get(f"{platform}/feed/records")).json()["records"]
        violations = (await http.get(f"{platform}/_sim/violations")).json()["violations"]
    assert violations == []
    people = [r for r in records if r["recordType"] == "person"]
    assert people
    for record in records:
        assert set(record) <= AGREED_FIELDS, record
    for person in people:
        assert person["surname"].isupper()
        assert not {"address", "addresses", "contact_points", "identifiers"} & set(person)
