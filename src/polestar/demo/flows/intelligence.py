"""Flow 8, feed to intelligence: new POLE data streams to the intelligence platform, minimised.

The intelligence platform holds its side of the data-sharing agreement: the
fields a record may carry (``AGREED_FIELDS``), put in place on the simulator
at the start of the run, which then refuses a whole batch holding any other
field. The custody simulator makes ``count`` custody episodes; the hub maps
the extract and its ``feed-to-intelligence`` route streams each new person
and arrest (and crime references and links) through the mappings in
``examples/force/integration/mappings/intelligence.yaml``, which keep only
what the agreement allows.

Checked at the far end: each episode's detainee and arrest arrived; every
record arrived holds only agreed fields (so no address, contact point or
other identifier); the platform refused nothing; the route made no dead
letters.
"""

from __future__ import annotations

from typing import Any

import httpx

from polestar.demo.contract import FlowOutcome, Force, Progress
from polestar.demo.flows._far_end import (
    Arrivals,
    DeadLetterWatch,
    FarEndFlow,
    answer,
    report_dead_letters,
    watch,
)

ROUTES = ("feed-to-intelligence",)
"""The hub's route this flow goes through (examples/force/integration/routes/intelligence.yaml)."""
AGREED_FIELDS = frozenset({
    "recordType", "recordId", "source", "sourceRef",
    "pncId", "surname", "forename", "dateOfBirth", "sex",
    "arrestedAt", "offenceCodes",
    "crimeReference", "reportedAt",
    "role", "fromType", "fromId", "toType", "toId",
})  # fmt: skip
"""The fields the data-sharing agreement with the intelligence platform allows, and no others."""


class IntelligenceFeedFlow(FarEndFlow):
    """Flow 8: new people and arrests from custody reach the intelligence platform, minimised."""

    number = 8
    title = "Feed to intelligence"

    async def _run(
        self, force: Force, http: httpx.AsyncClient, *, count: int, progress: Progress, outcome: FlowOutcome
    ) -> None:
        custody, platform = force.sims["custody"], force.sims["intelligence"]
        dead = DeadLetterWatch(force, http, ROUTES)
        await dead.start()
        await answer(
            http.post(f"{platform}/_sim/agreement", json={"allowed_fields": sorted(AGREED_FIELDS)}),
            "putting the agreement in place at the intelligence platform",
        )
        violations_before = len(await _violations(http, platform))
        made = await answer(
            http.post(f"{custody}/_sim/generate", json={"count": count}),
            "asking the custody simulator for episodes",
            expect=(201,),
        )
        episodes: list[str] = made["episodes"]
        expected = {f"{kind}:{no}" for no in episodes for kind in ("person", "arrest")}
        arrivals = Arrivals(expected)
        progress(f"custody → hub: {len(episodes)} custody records in an extract file")

        async def received() -> list[str]:
            return [f"{r.get('recordType')}:{r.get('sourceRef')}" for r in await _records(http, platform)]

        await watch(arrivals, received, timeout=self.timeout)
        progress(f"hub → intelligence: {len(arrivals.seen)}/{len(expected)} records")

        for key in sorted(arrivals.missing):
            kind, _, no = key.partition(":")
            outcome.problems.append(
                f"the {kind} of custody record {no} never reached the intelligence platform"
            )
        mine = [r for r in await _records(http, platform) if r.get("sourceRef") in set(episodes)]
        for record in mine:
            extra = sorted(set(record) - AGREED_FIELDS)
            if extra:
                outcome.problems.append(
                    f"{record.get('recordType')} of {record.get('sourceRef')} carried fields outside the "
                    f"agreement: {', '.join(extra)}"
                )
        for violation in (await _violations(http, platform))[violations_before:]:
            outcome.problems.append(
                f"the intelligence platform refused a batch with fields outside the agreement: "
                f"{', '.join(violation['fields'][:10])}"
            )
        failed = {key.partition(":")[2] for key in arrivals.missing}
        outcome.failures += len(failed)
        for no in episodes:
            if no not in failed:
                outcome.messages += 1
                outcome.latencies_ms.append(max(arrivals.seen[f"{k}:{no}"] for k in ("person", "arrest")))
        outcome.notes.append(
            f"{len(mine)} records shared, each within the {len(AGREED_FIELDS)} agreed fields"
        )
        report_dead_letters(outcome, await dead.new())


async def _records(http: httpx.AsyncClient, platform: str) -> list[dict[str, Any]]:
    found = await answer(http.get(f"{platform}/feed/records"), "reading what the intelligence platform holds")
    records: list[dict[str, Any]] = found["records"]
    return records


async def _violations(http: httpx.AsyncClient, platform: str) -> list[dict[str, Any]]:
    found = await answer(http.get(f"{platform}/_sim/violations"), "reading the intelligence violations")
    violations: list[dict[str, Any]] = found["violations"]
    return violations
