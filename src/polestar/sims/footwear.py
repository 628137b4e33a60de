"""The National Footwear Database simulator: a REST sink that takes only what it may hold.

Data minimisation is asserted by the simulator itself: every record is checked
against an allow-list, and a record carrying any other field is refused with
422 naming each such field, and the violation is recorded (which fields, when,
from whom; never their values, which it should not have been sent).

==========================  ====================================================================
endpoint                    accepts
==========================  ====================================================================
``POST /subjects``          the subject record, XML (as ``footwear.yaml`` writes it) or JSON::

                              <FootwearSubject custodyRef="01CX/004512/26" force="01">
                                <PNCId>2012/0052494Q</PNCId><Surname>OKAFOR</Surname>
                                <Forename>Daniel</Forename><DateOfBirth>17/03/1994</DateOfBirth>
                                <Sex>M</Sex>
                              </FootwearSubject>
``POST /impressions``       JSON: custodyRef, force, impressionId, takenAt (+ optional PNCId,
                            takenBy, footwearMake, footwearModel, soleImageRef)
``GET /subjects``, ``GET /impressions``, ``GET /_sim/violations``
==========================  ====================================================================

Answers: 201 ``{"reference": "NFD-000001"}`` with ``Location``; 422
``{"errors": [{"field", "reason"}]}``; an ``Idempotency-Key`` repeat gets
the first answer again.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from polestar.sims import _xml
from polestar.sims._records import IdempotencyKeys, fields_not_allowed, problems_response
from polestar.sims.harness import SimControls, install_controls, note
from polestar.sims.synthetic import valid_pnc_id

SUBJECT_FIELDS = frozenset({"custodyRef", "force", "PNCId", "Surname", "Forename", "DateOfBirth", "Sex"})
IMPRESSION_FIELDS = frozenset({
    "custodyRef", "force", "impressionId", "takenAt", "PNCId", "takenBy", "footwearMake", "footwearModel",
    "soleImageRef",
})  # fmt: skip
SEXES = frozenset({"M", "F", "U", "X"})
NOT_HELD = "not accepted: the National Footwear Database does not hold this field (data minimisation)"


def _subject_from_xml(root: Any) -> dict[str, Any]:
    record: dict[str, Any] = dict(root.attrib)
    for child in root:
        if isinstance(child.tag, str):
            name = _xml.local(child)
            record[name] = (child.text or "").strip() if not len(child) else "<element>"
    return record


def _subject_problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    problems = [(f, "is required") for f in ("custodyRef", "Surname") if not record.get(f)]
    if record.get("PNCId") and not valid_pnc_id(str(record["PNCId"])):
        problems.append(("PNCId", "is not a PNC ID with a valid check character"))
    if record.get("DateOfBirth") and not re.fullmatch(r"\d\d/\d\d/\d{4}", str(record["DateOfBirth"])):
        problems.append(("DateOfBirth", "must be dd/mm/yyyy"))
    if record.get("Sex") and record["Sex"] not in SEXES:
        problems.append(("Sex", f"must be one of {sorted(SEXES)}"))
    return problems


def _impression_problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    required = ("custodyRef", "force", "impressionId", "takenAt")
    problems = [(f, "is required") for f in required if not record.get(f)]
    if record.get("PNCId") and not valid_pnc_id(str(record["PNCId"])):
        problems.append(("PNCId", "is not a PNC ID with a valid check character"))
    return problems


class FootwearDatabase:
    """What the database holds, and the minimisation violations it saw."""

    def __init__(self) -> None:
        self.subjects: dict[str, dict[str, Any]] = {}
        self.impressions: dict[str, dict[str, Any]] = {}
        self.violations: list[dict[str, Any]] = []
        self.keys = IdempotencyKeys()
        self._sequence = 0

    def accept(
        self, request: Request, kind: str, record: dict[str, Any], allowed: frozenset[str]
    ) -> Response:
        """Check ``record`` against ``allowed`` and its rules; store it or refuse it with reasons."""
        key = request.headers.get("idempotency-key")
        replay = self.keys.replay(key, record)
        if replay is not None:
            return replay
        extra = fields_not_allowed(record, allowed)
        if extra:
            self.violations.append({
                "at": datetime.now(UTC).isoformat(),
                "endpoint": request.url.path,
                "fields": extra,
                "idempotency_key": key,
                "client": request.client.host if request.client else None,
                "custody_ref": record.get("custodyRef"),
            })  # fmt: skip
            note(request, violation=extra)
            return problems_response([(f, NOT_HELD) for f in extra])
        problems = _subject_problems(record) if kind == "subject" else _impression_problems(record)
        if problems:
            note(request, rejected=[f for f, _ in problems])
            return problems_response(problems)
        self._sequence += 1
        reference = f"NFD-{self._sequence:06d}"
        store = self.subjects if kind == "subject" else self.impressions
        store[reference] = {"reference": reference, **record}
        answer = {"reference": reference}
        self.keys.remember(key, record, 201, answer)
        note(request, reference=reference, custody_ref=record.get("custodyRef"))
        return JSONResponse(answer, status_code=201, headers={"Location": f"/{kind}s/{reference}"})


async def _read(request: Request) -> dict[str, Any] | Response:
    body = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media.endswith("xml"):
        try:
            root = _xml.parse(body)
        except _xml.XmlRefusedError as exc:
            return problems_response([("$", str(exc))], status=400)
        if _xml.local(root) != "FootwearSubject":
            return problems_response([("$", f"expected FootwearSubject, got {_xml.local(root)}")])
        return _subject_from_xml(root)
    try:
        record = json.loads(body)
    except ValueError:
        return problems_response([("$", "the body is neither XML nor JSON")], status=400)
    if not isinstance(record, dict):
        return problems_response([("$", "the body must be one record (an object)")])
    return record


def create_app(*, controls: SimControls | None = None) -> FastAPI:
    """The National Footwear Database simulator as an ASGI app."""
    controls = controls or SimControls("footwear")
    db = FootwearDatabase()
    app = FastAPI(title="National Footwear Database simulator", description=__doc__)
    install_controls(app, controls)
    app.state.footwear = db

    @app.post("/subjects", status_code=201, response_model=None)
    async def subject(request: Request) -> Response:
        record = await _read(request)
        if isinstance(record, Response):
            return record
        return db.accept(request, "subject", record, SUBJECT_FIELDS)

    @app.post("/impressions", status_code=201, response_model=None)
    async def impression(request: Request) -> Response:
        record = await _read(request)
        if isinstance(record, Response):
            return record
        return db.accept(request, "impression", record, IMPRESSION_FIELDS)

    @app.get("/subjects")
    async def subjects() -> dict[str, Any]:
        return {"subjects": list(db.subjects.values())}

    @app.get("/impressions")
    async def impressions() -> dict[str, Any]:
        return {"impressions": list(db.impressions.values())}

    @app.get("/_sim/violations")
    async def violations() -> dict[str, Any]:
        return {"violations": db.violations}

    return app
