"""Flow 4, custody outwards: custody records reach the data warehouse and the footwear database.

The custody simulator makes ``count`` custody episodes and drops them as its
extract files, as the real system does. The hub takes the episodes file
(``custody-files``), and its routes send each custody record to the
warehouse as micro-batched CSV files with manifests (``custody-to-warehouse``)
and each detainee known to PNC to the National Footwear Database as a minimal
XML subject record (``custody-to-footwear``).

Checked at the far end: every episode is a row the warehouse loaded; every
detainee with a PNC ID is a footwear subject and no detainee without one is;
the footwear database never refused a field it must not hold (it asserts
minimisation itself, ``GET /_sim/violations``); and the routes made no dead
letters.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

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

ROUTES = ("custody-to-warehouse", "custody-to-footwear")
"""The hub's routes this flow goes through (examples/force/integration/routes/custody.yaml)."""


class CustodyOutwardsFlow(FarEndFlow):
    """Flow 4: custody events to the warehouse (files) and the footwear database (minimised)."""

    number = 4
    title = "Custody outwards"

    async def _run(
        self, force: Force, http: httpx.AsyncClient, *, count: int, progress: Progress, outcome: FlowOutcome
    ) -> None:
        custody, warehouse, footwear = (force.sims[n] for n in ("custody", "warehouse", "footwear"))
        dead = DeadLetterWatch(force, http, ROUTES)
        await dead.start()
        violations_before = len(await _violations(http, footwear))
        made = await answer(
            http.post(f"{custody}/_sim/generate", json={"count": count}),
            "asking the custody simulator for episodes",
            expect=(201,),
        )
        episodes: list[str] = made["episodes"]
        to_warehouse = Arrivals(set(episodes))
        known_to_pnc = {no for no in episodes if (await _booking(http, custody, no)).get("pnc_id")}
        to_footwear = Arrivals(known_to_pnc, started=to_warehouse.started)
        progress(f"custody → hub: {len(episodes)} custody records in an extract file")

        async def in_warehouse() -> set[str]:
            rows = await answer(http.get(f"{warehouse}/records"), "reading the warehouse's records")
            return {r["record"].get("custody_record_number", "") for r in rows["records"]}

        async def in_footwear() -> set[str]:
            found = await answer(http.get(f"{footwear}/subjects"), "reading the footwear subjects")
            return {s.get("custodyRef", "") for s in found["subjects"]}

        await watch(to_warehouse, in_warehouse, timeout=self.timeout)
        progress(f"hub → warehouse: {len(to_warehouse.seen)}/{len(episodes)} rows loaded")
        await watch(to_footwear, in_footwear, timeout=self.timeout)
        progress(f"hub → footwear: {len(to_footwear.seen)}/{len(known_to_pnc)} subjects")

        for no in sorted(to_warehouse.missing):
            outcome.problems.append(f"custody record {no} never reached the warehouse")
        for no in sorted(to_footwear.missing):
            outcome.problems.append(f"detainee of {no} (known to PNC) never reached the footwear database")
        unwanted = (await in_footwear()) & (set(episodes) - known_to_pnc)
        for no in sorted(unwanted):
            outcome.problems.append(f"detainee of {no} has no PNC ID but was sent to the footwear database")
        for violation in (await _violations(http, footwear))[violations_before:]:
            outcome.problems.append(
                f"footwear database refused fields it must not hold: {', '.join(violation['fields'])} "
                f"(custody record {violation.get('custody_ref')})"
            )
        failed = to_warehouse.missing | to_footwear.missing | unwanted
        outcome.failures += len(failed)
        for no in episodes:
            if no in failed:
                continue
            outcome.messages += 1
            outcome.latencies_ms.append(max(to_warehouse.seen[no], to_footwear.seen.get(no, 0.0)))
        outcome.notes.append(
            f"{len(episodes)} custody records; {len(known_to_pnc)} detainees known to PNC sent to footwear"
        )
        report_dead_letters(outcome, await dead.new())


async def _booking(http: httpx.AsyncClient, custody: str, custody_no: str) -> dict[str, Any]:
    found = await answer(
        http.get(f"{custody}/episodes/{quote(custody_no, safe='/')}"), f"reading custody record {custody_no}"
    )
    booking: dict[str, Any] = found["booking"]
    return booking


async def _violations(http: httpx.AsyncClient, footwear: str) -> list[dict[str, Any]]:
    found = await answer(http.get(f"{footwear}/_sim/violations"), "reading the footwear violations")
    violations: list[dict[str, Any]] = found["violations"]
    return violations
