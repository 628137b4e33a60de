"""Flow 3, call to crime report, through the hub and the simulators, in both profiles."""

from __future__ import annotations

import httpx

from polestar.demo.contract import Force
from polestar.demo.flows.crime import CallToCrimeFlow


async def test_calls_with_crime_indicators_become_draft_reports_linked_back_to_the_call(force: Force) -> None:
    outcome = await CallToCrimeFlow(timeout=20).run(force, count=3, progress=lambda _: None)

    assert outcome.ok, outcome.problems
    assert outcome.messages == 3
    assert outcome.dead_letters == 0
    async with httpx.AsyncClient() as http:
        reports = (await http.get(f"{force.sims['crime-recording']}/crime-reports")).json()["reports"]
        records = (await http.get(f"{force.sims['intelligence']}/feed/records")).json()["records"]
    assert len(reports) == 3, "one draft per call with crime indicators, none repeated"
    assert all(r["status"] == "DRAFT" and r["callReference"].startswith("CH-") for r in reports)
    crimes = {r["crimeReference"]: r for r in records if r["recordType"] == "crime"}
    links = [r for r in records if r["recordType"] == "link" and r["role"] == "related"]
    for report in reports:
        crime = crimes[report["crimeReference"]]  # the canonical crime carries crime recording's reference
        assert crime["source"] == "crime-recording"
        (link,) = [link for link in links if link["toId"] == crime["recordId"]]
        assert (link["fromType"], link["toType"]) == ("call", "crime")
