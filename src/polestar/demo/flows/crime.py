"""Flow 3, call to crime report: a call with crime indicators becomes a draft crime report at once.

Call handling posts each call it takes to the hub (``/ingest/call-handling``).
The hub's ``call-to-crime`` route gathers the call and its scene and passes it
to CAD (``POST /calls``), whose answer is the incident the call became. For a
call with crime indicators it then calls crime recording's REST API with a
draft report (carrying the incident number); the crime reference number that
comes back is given to CAD for that incident (``PUT
/incidents/{no}/crime-reference``) and published on the bus as the canonical
crime (``crime.reference.assigned``) and its ``related`` link to the call
(``link.created``), for the store and everyone downstream.

Checked at the far end: crime recording holds exactly one draft per call with
crime indicators and none for the others; CAD holds one incident per call, and
each crime call's incident holds its crime reference; the hub took every event
CAD posted about those incidents (``POST /ingest/cad``, its crime reference
confirmations too, which are the link already published); the crime with its
reference and its link to the call reached a system downstream of the bus
(the intelligence platform, fed by ``feed-to-intelligence``), so the link
really was published; and no dead letters. Latency is from each call being
taken to its link arriving downstream.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from polestar.demo.contract import FlowOutcome, Force, Progress
from polestar.demo.flows._far_end import (
    POLL_SECONDS,
    Arrivals,
    DeadLetterWatch,
    FarEndFlow,
    answer,
    cad_sends_to_hub,
    report_dead_letters,
    watch,
)

ROUTES = ("call-to-crime", "feed-to-intelligence")
"""The hub's routes this flow goes through (examples/force/integration/routes/)."""
MAX_CALLS_PER_CRIME = 20
"""Most calls taken, per call with crime indicators wanted, before giving up looking for them."""


class CallToCrimeFlow(FarEndFlow):
    """Flow 3: calls become CAD incidents; crime calls become draft reports, the reference on the incident."""

    number = 3
    title = "Call to crime report"

    async def _run(
        self, force: Force, http: httpx.AsyncClient, *, count: int, progress: Progress, outcome: FlowOutcome
    ) -> None:
        calls, crime = force.sims["call-handling"], force.sims["crime-recording"]
        platform, cad = force.sims["intelligence"], force.sims["cad"]
        dead = DeadLetterWatch(force, http, ROUTES)
        await dead.start()
        await cad_sends_to_hub(http, force)
        await answer(
            http.post(
                f"{calls}/_sim/webhook",
                json={"url": f"{force.hub_url}/ingest/call-handling", "headers": force.hub_headers()},
            ),
            "pointing call handling at the hub",
        )
        crime_calls: list[str] = []
        other_calls: list[str] = []
        arrivals = Arrivals(set())
        # One call at a time, as calls are taken: each one's latency runs from when it was taken.
        for _ in range(count * MAX_CALLS_PER_CRIME):
            made = await answer(
                http.post(f"{calls}/_sim/generate", json={"count": 1}),
                "asking call handling for a call",
                expect=(201,),
            )
            for call in made["calls"]:
                if call in made["crimeRelated"]:
                    crime_calls.append(call)
                    arrivals.expect(call)
                else:
                    other_calls.append(call)
            if len(crime_calls) >= count:
                break
        progress(
            f"call handling → hub: {len(crime_calls)} calls with crime indicators, {len(other_calls)} without"
        )

        references: dict[str, str] = {}

        async def linked() -> list[str]:
            records = await _records(http, platform)
            crimes = {r["crimeReference"]: r for r in records if r.get("recordType") == "crime"}
            from_call = {
                r.get("toId")
                for r in records
                if r.get("recordType") == "link"
                and r.get("role") == "related"
                and r.get("fromType") == "call"
            }
            done = []
            for call in arrivals.missing:
                reference = references.get(call) or await _reference(http, crime, call)
                if reference is None:
                    continue
                references[call] = reference
                record = crimes.get(reference, {}).get("recordId")
                if record is not None and record in from_call:
                    done.append(call)
            return done

        await watch(arrivals, linked, timeout=self.timeout)
        progress(f"hub → crime recording → bus: {len(arrivals.seen)}/{len(crime_calls)} references linked")

        for call in sorted(arrivals.missing):
            if call in references:
                outcome.problems.append(
                    f"call {call} got crime reference {references[call]}; its link never arrived downstream"
                )
            else:
                outcome.problems.append(f"call {call} has crime indicators but no draft crime report")
        for call in other_calls:
            if await _reference(http, crime, call) is not None:
                outcome.problems.append(f"call {call} has no crime indicator but became a crime report")
                outcome.failures += 1
        for call in crime_calls:
            drafts = await _drafts(http, crime, call)
            if len(drafts) > 1:
                outcome.problems.append(f"call {call} became {len(drafts)} crime reports, not one")
                outcome.failures += 1
        await _check_cad(
            http,
            cad,
            crime_calls=crime_calls,
            other_calls=other_calls,
            references=references,
            outcome=outcome,
            timeout=self.timeout,
        )
        outcome.failures += len(arrivals.missing)
        outcome.messages += len(arrivals.seen)
        outcome.latencies_ms += [arrivals.seen[c] for c in crime_calls if c in arrivals.seen]
        outcome.notes.append(
            f"{len(crime_calls) + len(other_calls)} calls became CAD incidents; "
            f"{len(crime_calls)} with crime indicators became draft reports, referenced on their incidents; "
            f"{len(other_calls)} without did not"
        )
        report_dead_letters(outcome, await dead.new())


async def _check_cad(
    http: httpx.AsyncClient,
    cad: str,
    *,
    crime_calls: list[str],
    other_calls: list[str],
    references: dict[str, str],
    outcome: FlowOutcome,
    timeout: float,
) -> None:
    """One CAD incident per call; each crime call's incident holds the crime reference it got."""
    # Calls without crime indicators end at CAD: wait until each has its incident there too.
    at_cad = Arrivals(set(other_calls))

    async def in_cad() -> list[str]:
        return list(await _incidents_by_call(http, cad))

    await watch(at_cad, in_cad, timeout=timeout)
    incidents = await _incidents_by_call(http, cad)
    for call in crime_calls + other_calls:
        found = incidents.get(call, [])
        if len(found) != 1:
            outcome.problems.append(f"call {call} became {len(found)} incidents in CAD, not one")
            outcome.failures += 1
    for call in crime_calls:
        found, reference = incidents.get(call, []), references.get(call)
        if reference is None or len(found) != 1:
            continue
        held = found[0].get("crimeReference")
        if held != reference:
            outcome.problems.append(
                f"CAD's incident {found[0].get('incidentNumber')} for call {call} holds crime reference "
                f"{held!r}, not {reference}"
            )
            outcome.failures += 1
    mine = {str(i["incidentNumber"]) for call in crime_calls + other_calls for i in incidents.get(call, [])}
    await _check_cad_events_taken(http, cad, mine, outcome=outcome, timeout=timeout)


async def _check_cad_events_taken(
    http: httpx.AsyncClient, cad: str, incidents: set[str], *, outcome: FlowOutcome, timeout: float
) -> None:
    """The hub took every event CAD sent about ``incidents`` (its crime reference links included)."""
    deadline = time.monotonic() + timeout
    while True:
        entries = [
            e
            for e in (await answer(http.get(f"{cad}/_sim/events"), "reading CAD's outbox"))["events"]
            if e["event"].get("incidentNumber") in incidents
        ]
        if not any(e["status"] == "pending" for e in entries) or time.monotonic() > deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    for entry in entries:
        if entry["status"] != "delivered":
            event = entry["event"]
            outcome.problems.append(
                f"the hub did not take CAD's {event.get('eventType')} for {event.get('incidentNumber')}: "
                f"{entry['status']}, {entry['last_error']}"
            )
            outcome.failures += 1


async def _drafts(http: httpx.AsyncClient, crime: str, call: str) -> list[dict[str, Any]]:
    found = await answer(
        http.get(f"{crime}/crime-reports", params={"callReference": call}),
        f"asking crime recording for reports from call {call}",
    )
    reports: list[dict[str, Any]] = found["reports"]
    return reports


async def _reference(http: httpx.AsyncClient, crime: str, call: str) -> str | None:
    drafts = await _drafts(http, crime, call)
    return str(drafts[0]["crimeReference"]) if drafts else None


async def _incidents_by_call(http: httpx.AsyncClient, cad: str) -> dict[str, list[dict[str, Any]]]:
    found = await answer(http.get(f"{cad}/incidents"), "reading CAD's incidents")
    by_call: dict[str, list[dict[str, Any]]] = {}
    for incident in found["incidents"]:
        if incident.get("callId"):
            by_call.setdefault(str(incident["callId"]), []).append(incident)
    return by_call


async def _records(http: httpx.AsyncClient, platform: str) -> list[dict[str, Any]]:
    found = await answer(http.get(f"{platform}/feed/records"), "reading what the intelligence platform holds")
    records: list[dict[str, Any]] = found["records"]
    return records
