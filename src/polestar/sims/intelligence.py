"""The intelligence platform simulator: a feed sink that records every batch it gets.

``POST /feed`` takes ``{"records": [...]}`` (or a bare list). With an
allow-list (``allowed_fields``, dotted paths), a batch holding any record
with another field is refused whole with 422 naming each one
(``records[3].address``) and the violation is recorded, as the footwear
database does; without one, everything is taken. A repeat of an
``Idempotency-Key`` is acknowledged again without storing the batch twice.
``GET /feed/batches`` and ``GET /feed/records`` show what arrived;
``GET /_sim/violations`` what was refused. ``POST /_sim/agreement
{"allowed_fields": [...]}`` puts an agreement's allow-list in place (null
removes it), as the platform's side of a data-sharing agreement.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from polestar.sims._records import fields_not_allowed, problems_response
from polestar.sims.harness import SimControls, install_controls, note

NOT_AGREED = "not accepted: outside the fields the data-sharing agreement allows"


class AgreementIn(BaseModel):
    """``POST /_sim/agreement``: the fields the data-sharing agreement allows (null: no allow-list)."""

    model_config = ConfigDict(extra="forbid")

    allowed_fields: list[str] | None = Field(
        description="Dotted paths of the fields a record may hold.", examples=[["recordType", "surname"]]
    )


def create_app(
    *, controls: SimControls | None = None, allowed_fields: Iterable[str] | None = None
) -> FastAPI:
    """The intelligence platform simulator; ``allowed_fields`` turns on the allow-list."""
    controls = controls or SimControls("intelligence")
    agreement: dict[str, frozenset[str] | None] = {
        "allowed": frozenset(allowed_fields) if allowed_fields is not None else None
    }
    batches: list[dict[str, Any]] = []
    violations: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    app = FastAPI(title="Intelligence platform simulator", description=__doc__)
    install_controls(app, controls)
    app.state.batches = batches

    @app.post("/feed", status_code=202, response_model=None)
    async def feed(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return problems_response([("$", "the body is not JSON")], status=400)
        records = body.get("records") if isinstance(body, dict) else body
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return problems_response([("records", "must be a list of objects")])
        key = request.headers.get("idempotency-key")
        if key and key in seen:
            return JSONResponse({"batch": seen[key], "records": len(records), "duplicate": True}, 202)
        allowed = agreement["allowed"]
        if allowed is not None:
            extra = [
                f"records[{i}].{f}" for i, r in enumerate(records) for f in fields_not_allowed(r, allowed)
            ]
            if extra:
                violations.append(
                    {"at": datetime.now(UTC).isoformat(), "fields": extra, "idempotency_key": key}
                )
                note(request, violation=extra)
                return problems_response([(f, NOT_AGREED) for f in extra])
        batch_id = f"FEED-{len(batches) + 1:06d}"
        batches.append({"batch": batch_id, "received_at": datetime.now(UTC).isoformat(), "records": records})
        if key:
            seen[key] = batch_id
        note(request, batch=batch_id, records=len(records))
        return JSONResponse({"batch": batch_id, "records": len(records)}, 202)

    @app.post("/_sim/agreement")
    async def set_agreement(body: AgreementIn) -> dict[str, Any]:
        agreement["allowed"] = frozenset(body.allowed_fields) if body.allowed_fields is not None else None
        return {"allowed_fields": sorted(agreement["allowed"]) if agreement["allowed"] is not None else None}

    @app.get("/feed/batches")
    async def list_batches() -> dict[str, Any]:
        return {"batches": [{"batch": b["batch"], "records": len(b["records"])} for b in batches]}

    @app.get("/feed/records")
    async def list_records() -> dict[str, Any]:
        return {"records": [r for b in batches for r in b["records"]]}

    @app.get("/_sim/violations")
    async def list_violations() -> dict[str, Any]:
        return {"violations": violations}

    return app
