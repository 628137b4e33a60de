"""Flow 3, call to crime report, through the hub and the simulators, in both profiles."""

from __future__ import annotations

import uuid

import httpx

from polestar.demo.contract import Force
from polestar.demo.flows.crime import CallToCrimeFlow
from polestar.mapping.functions import ENTITY_NAMESPACE


def cad_incident_id(number: str) -> str:
    """The hub's id of CAD's incident ``number``: ``stable_id('incident', number)`` under ``cad``."""
    return str(uuid.uuid5(ENTITY_NAMESPACE, "\x1f".join(["cad", "incident", number])))


async def test_calls_become_incidents_and_crime_calls_drafts_whose_reference_cad_holds(force: Force) -> None:
    outcome = await CallToCrimeFlow(timeout=20).run(force, count=3, progress=lambda _: None)

    assert outcome.ok, outcome.problems
    assert outcome.messages == 3
    assert outcome.dead_letters == 0
    async with httpx.AsyncClient() as http:
        reports = (await http.get(f"{force.sims['crime-recording']}/crime-reports")).json()["reports"]
        records = (await http.get(f"{force.sims['intelligence']}/feed/records")).json()["records"]
        incidents = (await http.get(f"{force.sims['cad']}/incidents")).json()["incidents"]
        outbox = (await http.get(f"{force.sims['cad']}/_sim/events")).json()["events"]
    assert len(reports) == 3, "one draft per call with crime indicators, none repeated"
    assert all(r["status"] == "DRAFT" and r["callReference"].startswith("CH-") for r in reports)
    crimes = {r["crimeReference"]: r for r in records if r["recordType"] == "crime"}
    links = [r for r in records if r["recordType"] == "link" and r["role"] == "related"]
    for report in reports:
        crime = crimes[report["crimeReference"]]  # the canonical crime carries crime recording's reference
        assert crime["source"] == "crime-recording"
        to_crime = {link["fromType"]: link for link in links if link["toId"] == crime["recordId"]}
        assert set(to_crime) == {"call", "incident"}
        assert all(link["toType"] == "crime" for link in to_crime.values())
        # CAD made the call an incident, the draft names it, and CAD holds the crime reference for it
        (incident,) = [i for i in incidents if i.get("callId") == report["callReference"]]
        assert report["incidentNumber"] == incident["incidentNumber"]
        assert incident["crimeReference"] == report["crimeReference"]
        # The crime is linked to the incident as the hub knows it from CAD's own events: the id
        # CAD's mapping (under the `cad` connector) derives from the incident number.
        assert to_crime["incident"]["fromId"] == cad_incident_id(incident["incidentNumber"])
        # CAD's confirmation of the reference is the link the route published: the platform has it once.
        assert len([link for link in links if link["toId"] == crime["recordId"]]) == 2
    # CAD posted every event to the hub, the crime reference confirmations too, and none was refused.
    linked = [e for e in outbox if e["event"]["eventType"] == "CRIME_REFERENCE_LINKED"]
    assert len(linked) == len(reports)
    assert [e for e in outbox if e["status"] != "delivered"] == []
    calls_to_cad = {i["callId"] for i in incidents if i.get("callId")}
    assert len(calls_to_cad) == len([i for i in incidents if i.get("callId")]), "one incident per call"
