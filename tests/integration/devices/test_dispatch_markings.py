"""A dispatch is a disclosure to the device: one marked above its officer's clearance is not sent."""

from __future__ import annotations

import json
from typing import Any

import httpx
from _device_hubs import CheckingHub, bearer, device_token

from polestar.audit import AuditQuery, Operation, Outcome
from polestar.model.envelope import Envelope
from polestar.sims.serving import serve


def _without_lifespan(app: Any) -> Any:
    """``app`` served again on a real port: its lifespan already runs in the ``hub`` fixture."""

    async def served(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return served


def _incident(reference: str, classification: str) -> Envelope:
    return Envelope(
        source="/connectors/cad",
        type="incident.unit.assigned",
        subject=reference,
        classification=classification,
        data={"reference": reference, "assigned_units": ["CX21"], "summary": "assault", "grade": "I"},
    )


async def test_a_dispatch_marked_above_the_officers_clearance_never_reaches_the_device(
    hub: CheckingHub,
) -> None:
    bus = hub.app.state.hub.bus.engine
    position = (await bus.stats()).last_sequence
    await bus.publish(_incident("INC-SECRET-1", "SECRET"))
    await bus.publish(_incident("INC-PLAIN-1", "OFFICIAL"))
    token = device_token(hub.app.state.hub.config, "PC21", "IVMA-CX21")
    headers = {**bearer(token), "Last-Event-ID": str(position)}
    feed = "/api/devices/IVMA-CX21/dispatches"
    async with (
        serve(_without_lifespan(hub.app)) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as http,
        http.stream("GET", feed, headers=headers) as stream,
    ):
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith("data:"):
                first = json.loads(line.removeprefix("data:"))
                break
    assert first["incidentNumber"] == "INC-PLAIN-1"
    decisions = await hub.audit().find(AuditQuery(operation=Operation.ACCESS_DECISION, actor="user:PC21"))
    refused = [r for r in decisions if r.outcome is Outcome.REFUSED]
    assert [(r.details or {}).get("policies") for r in refused] == [["clearance-must-cover-the-marking"]]
