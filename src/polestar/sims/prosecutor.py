"""The prosecutor gateway simulator: case files in, acknowledged, then accepted or rejected with reasons.

``POST /case-files`` takes a case file as the gateway's JSON::

    {"urn": "01CX1234526", "version": 1, "force": "01",
     "defendants": [{"surname": "OKAFOR", "forenames": "Daniel", "dob": "1994-03-17"}],
     "charges": [{"defendant": 0, "offence": "robbery", "code": "034/01"}],
     "summary": "MG5 case summary…", "exhibits": [...]}

and answers 202 ``{"acknowledgementId": "ACK-000001", "status": "RECEIVED"}``.
After ``decision_delay`` seconds ``GET /case-files/{ack}`` gives the decision:
``ACCEPTED``, or ``REJECTED`` with ``reasons`` (no defendant, a defendant
without a date of birth, no charge, a charge naming no defendant, no MG5
summary). A corrected file is resubmitted under the same URN with a higher
version; the same or a lower version is 409. ``GET /cases/{urn}`` lists
every version and its decision. With ``review_on_receipt`` a file with
reasons to reject is refused at once with 422 and the reasons (the
gateway's negative acknowledgement); such a version was never received, and
may be sent again corrected. A repeated ``Idempotency-Key`` with the same
body gets the first answer again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from polestar.sims._records import IdempotencyKeys, problems_response
from polestar.sims.harness import SimControls, install_controls, note


def review(case_file: dict[str, Any]) -> list[str]:
    """The gateway's reasons to reject ``case_file`` (empty: accepted)."""
    reasons = []
    defendants = case_file.get("defendants") or []
    if not defendants:
        reasons.append("no defendant is named")
    reasons += [f"defendant {i} has no date of birth" for i, d in enumerate(defendants) if not d.get("dob")]
    charges = case_file.get("charges") or []
    if not charges:
        reasons.append("no charge is laid")
    reasons += [
        f"charge {i} names no defendant in the file"
        for i, c in enumerate(charges)
        if not isinstance(c.get("defendant"), int) or not 0 <= c["defendant"] < len(defendants)
    ]
    if not str(case_file.get("summary") or "").strip():
        reasons.append("no MG5 case summary")
    return reasons


@dataclass
class Submission:
    """One version of a case file and its decision."""

    ack: str
    urn: str
    version: int
    received: float
    reasons: list[str]
    case_file: dict[str, Any] = field(repr=False)
    refused: bool = False
    """Rejected on receipt (``review_on_receipt``): decided at once, and never counted as received."""

    def as_json(self, now: float, delay: float) -> dict[str, Any]:
        """The submission as ``GET /case-files/{ack}`` shows it."""
        decided = self.refused or now >= self.received + delay
        body: dict[str, Any] = {"acknowledgementId": self.ack, "urn": self.urn, "version": self.version}
        if not decided:
            return {**body, "status": "RECEIVED"}
        if self.reasons:
            return {**body, "status": "REJECTED", "reasons": self.reasons}
        return {**body, "status": "ACCEPTED"}


def _refusal(case_file: Any, cases: dict[str, list[Submission]]) -> Response | None:
    """Why ``case_file`` cannot be taken at all (not a case file, no URN, a stale version), or None."""
    if not isinstance(case_file, dict):
        return problems_response([("$", "the body must be a case file object")])
    problems = [(f, "is required") for f in ("urn", "version") if case_file.get(f) in (None, "")]
    if problems:
        return problems_response(problems)
    urn, version = str(case_file["urn"]), case_file["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return problems_response([("version", "must be a whole number from 1")])
    previous = [c for c in cases.get(urn, []) if not c.refused]
    if previous and version <= previous[-1].version:
        latest = previous[-1].version
        return JSONResponse(
            {"detail": f"case {urn} already has version {latest}; resubmit with a higher version"},
            status_code=409,
        )
    return None


def create_app(
    *, controls: SimControls | None = None, decision_delay: float = 0.5, review_on_receipt: bool = False
) -> FastAPI:
    """The prosecutor gateway simulator; decisions appear ``decision_delay`` seconds after receipt.

    With ``review_on_receipt`` a case file with reasons to reject is refused at once (422 with
    the reasons, as a gateway's validation gives a negative acknowledgement); it is listed under
    its case as ``REJECTED`` but was never received, so it may be sent again under the same version.
    """
    controls = controls or SimControls("prosecutor")
    submissions: dict[str, Submission] = {}
    cases: dict[str, list[Submission]] = {}
    keys = IdempotencyKeys()
    app = FastAPI(title="Prosecutor gateway simulator", description=__doc__)
    install_controls(app, controls)
    app.state.submissions = submissions

    @app.post("/case-files", status_code=202, response_model=None)
    async def submit(request: Request) -> Response:
        try:
            case_file = await request.json()
        except ValueError:
            return problems_response([("$", "the body is not JSON")], status=400)
        key = request.headers.get("idempotency-key")
        replay = keys.replay(key, case_file)
        if replay is not None:
            return replay
        refusal = _refusal(case_file, cases)
        if refusal is not None:
            return refusal
        urn, version = str(case_file["urn"]), case_file["version"]
        ack = f"ACK-{len(submissions) + 1:06d}"
        reasons = review(case_file)
        refused = review_on_receipt and bool(reasons)
        submission = Submission(ack, urn, version, time.monotonic(), reasons, case_file, refused=refused)
        submissions[ack] = submission
        cases.setdefault(urn, []).append(submission)
        note(
            request,
            urn=urn,
            version=version,
            acknowledgement=ack,
            **({"refused": reasons} if refused else {}),
        )
        if refused:
            answer = {
                "acknowledgementId": ack,
                "status": "REJECTED",
                "reasons": reasons,
                "detail": f"case file {urn} version {version} rejected: {'; '.join(reasons)}",
            }
            keys.remember(key, case_file, 422, answer)
            return JSONResponse(answer, status_code=422)
        answer = {"acknowledgementId": ack, "status": "RECEIVED"}
        keys.remember(key, case_file, 202, answer)
        return JSONResponse(answer, status_code=202, headers={"Location": f"/case-files/{ack}"})

    @app.get("/case-files/{ack}")
    async def decision(ack: str) -> dict[str, Any]:
        found = submissions.get(ack)
        if found is None:
            raise HTTPException(404, f"no case file acknowledged as {ack}")
        return found.as_json(time.monotonic(), decision_delay)

    @app.get("/cases/{urn}")
    async def case(urn: str) -> dict[str, Any]:
        if urn not in cases:
            raise HTTPException(404, f"no case {urn}")
        now = time.monotonic()
        return {"urn": urn, "versions": [s.as_json(now, decision_delay) for s in cases[urn]]}

    return app
