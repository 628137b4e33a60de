"""The crime recording simulator: a draft crime report in, a crime reference number out.

``POST /crime-reports`` takes the report as crime recording's own JSON::

    {"offence": "theft from a shop", "occurredFrom": "2026-11-23T21:05:00",
     "summary": "…", "reportingOfficer": "PC 4471",
     "location": {"street": "431 Strand", "town": "London", "postcode": "WC2R 0QE"},
     "incidentNumber": "INC-20261123-0311", "callReference": "CH-20261123-00017",
     "people": [{"role": "suspect", "surname": "OKAFOR", "forenames": "Daniel", "dob": "17/03/1994"}]}

and answers 201 ``{"crimeReference": "CRI-2026-000123", "status": "DRAFT"}``
with ``Location: /crime-reports/CRI-2026-000123``. Problems are 422
``{"errors": [{"field", "reason"}]}``, every one at once. A repeat with the
same ``Idempotency-Key`` and body gets the first answer again (header
``Idempotent-Replayed: true``) and no second reference. ``GET /crime-reports``
lists the reports received (``?callReference=`` those drafted from one call).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from polestar.sims._clock import Clock, london_now
from polestar.sims._records import IdempotencyKeys, problems_response
from polestar.sims.harness import SimControls, install_controls, note
from polestar.sims.synthetic import valid_postcode

REQUIRED = ("offence", "occurredFrom", "summary", "reportingOfficer", "location")
LISTED = ("offence", "occurredFrom", "incidentNumber", "callReference", "reportingOfficer")
"""The fields ``GET /crime-reports`` shows of each report (the whole one is at its own URL)."""
ROLES = frozenset({"victim", "suspect", "witness", "informant"})
KNOWN = frozenset({
    *REQUIRED, "occurredTo", "incidentNumber", "callReference", "people", "modusOperandi", "property",
})  # fmt: skip


def _datetime(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def validate(report: Any) -> list[tuple[str, str]]:
    """Every problem with a draft report, by field."""
    if not isinstance(report, dict):
        return [("$", "the body must be a JSON object")]
    problems = [(name, "is required") for name in REQUIRED if not report.get(name)]
    problems += [(name, "is not a field of a crime report") for name in report if name not in KNOWN]
    start = _datetime(report["occurredFrom"]) if report.get("occurredFrom") else None
    if report.get("occurredFrom") and start is None:
        problems.append(("occurredFrom", "is not an ISO 8601 date-time"))
    if report.get("occurredTo"):
        end = _datetime(report["occurredTo"])
        if end is None:
            problems.append(("occurredTo", "is not an ISO 8601 date-time"))
        elif start is not None and end < start:
            problems.append(("occurredTo", "is before occurredFrom"))
    location = report.get("location")
    if location is not None and not isinstance(location, dict):
        problems.append(("location", "must be an object"))
    elif isinstance(location, dict):
        if not (location.get("street") or location.get("description")):
            problems.append(("location.street", "a street or a description is required"))
        postcode = location.get("postcode")
        if postcode and not valid_postcode(str(postcode).upper()):
            problems.append(("location.postcode", f"{postcode!r} is not a UK postcode"))
    return problems + _people_problems(report.get("people") or [])


def _people_problems(people: list[Any]) -> list[tuple[str, str]]:
    problems = []
    for i, person in enumerate(people):
        if not isinstance(person, dict):
            problems.append((f"people[{i}]", "must be an object"))
            continue
        if person.get("role") not in ROLES:
            problems.append((f"people[{i}].role", f"must be one of {sorted(ROLES)}"))
        if not person.get("surname"):
            problems.append((f"people[{i}].surname", "is required"))
    return problems


class CrimeRecording:
    """The reports received and the reference numbers given."""

    def __init__(self, clock: Clock = london_now) -> None:
        self.clock = clock
        self.reports: dict[str, dict[str, Any]] = {}
        self.keys = IdempotencyKeys()
        self._sequence = 0

    def record(self, report: dict[str, Any]) -> dict[str, Any]:
        """Give ``report`` a crime reference number and keep it as a draft."""
        self._sequence += 1
        now = self.clock()
        reference = f"CRI-{now.year}-{self._sequence:06d}"
        answer = {"crimeReference": reference, "status": "DRAFT", "recorded": now.isoformat()}
        self.reports[reference] = {**answer, "report": report}
        return answer


def create_app(*, controls: SimControls | None = None, clock: Clock = london_now) -> FastAPI:
    """The crime recording simulator as an ASGI app."""
    controls = controls or SimControls("crime-recording")
    sim = CrimeRecording(clock)
    app = FastAPI(title="Crime recording simulator", description=__doc__)
    install_controls(app, controls)
    app.state.crime = sim

    @app.post("/crime-reports", status_code=201, response_model=None)
    async def draft(request: Request) -> Response:
        try:
            report = await request.json()
        except ValueError:
            return problems_response([("$", "the body is not JSON")], status=400)
        key = request.headers.get("idempotency-key")
        replay = sim.keys.replay(key, report)
        if replay is not None:
            note(request, replayed=key)
            return replay
        problems = validate(report)
        if problems:
            note(request, rejected=[f for f, _ in problems])
            return problems_response(problems)
        answer = sim.record(report)
        sim.keys.remember(key, report, 201, answer)
        note(request, crime_reference=answer["crimeReference"], incident=report.get("incidentNumber"))
        location = f"/crime-reports/{answer['crimeReference']}"
        return JSONResponse(answer, status_code=201, headers={"Location": location})

    @app.get("/crime-reports")
    async def reports(
        call_reference: str | None = Query(default=None, alias="callReference"),
    ) -> dict[str, Any]:
        found = [
            {"crimeReference": ref, "status": r["status"], **{k: r["report"].get(k) for k in LISTED}}
            for ref, r in sim.reports.items()
            if call_reference is None or r["report"].get("callReference") == call_reference
        ]
        return {"reports": found}

    @app.get("/crime-reports/{reference}")
    async def report(reference: str) -> dict[str, Any]:
        found = sim.reports.get(reference)
        if found is None:
            raise HTTPException(404, f"no crime report {reference}")
        return found

    return app
