"""Flow 7, case file to the prosecutor, through the hub and the simulators, in both profiles."""

from __future__ import annotations

import httpx

from polestar.demo.contract import Force
from polestar.demo.flows.casefile import MISSING_DOB, CaseFileFlow


async def test_case_files_are_accepted_and_a_rejected_one_is_dead_lettered_then_resubmitted(
    force: Force,
) -> None:
    outcome = await CaseFileFlow(timeout=20).run(force, count=2, progress=lambda _: None)

    assert outcome.ok, outcome.problems
    assert outcome.messages == 3, "two good case files and the corrected one"
    assert outcome.dead_letters == 2, "the rejected file's detainee and arrest"
    async with httpx.AsyncClient() as http:
        cases = []
        for note in outcome.notes:
            if note.startswith("corrected case file "):
                urn = note.split()[3]
                cases = (await http.get(f"{force.sims['prosecutor']}/cases/{urn}")).json()["versions"]
    statuses = [(v["version"], v["status"]) for v in cases]
    assert statuses == [(1, "REJECTED"), (1, "ACCEPTED")], statuses
    assert any(MISSING_DOB in reason for reason in cases[0]["reasons"])
