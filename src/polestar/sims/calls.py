"""The call-handling simulator: 999/101 call records with crime indicators, as a feed.

``GET /calls?after=<callId>&limit=50`` returns the calls after a cursor,
oldest first, and ``next`` (the cursor to pass next time)::

    {"callId": "CH-20261031-00017", "receivedAt": "2026-10-31T01:59:00", "channel": "999",
     "caller": {"name": "Bob Smyth", "phone": "07700 900123"},
     "location": {"premises": "Greggs", "street": "12 Station Road", "town": "Leeds",
                  "postcode": "LS6 2AB", "lat": 53.81, "lon": -1.56},
     "description": "…", "crimeIndicators": ["THEFT"], "crimeRelated": true}

``POST /_sim/generate {"count": n}`` makes n more calls from the shared world;
with a webhook set (``webhook_url``, or ``POST /_sim/webhook {"url", "headers"}``)
each new call is also POSTed to it, in order; ``GET /_sim/events`` shows how
each delivery went.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from polestar.sims._clock import local_iso
from polestar.sims._webhook import Outbox
from polestar.sims.harness import SimControls, install_controls
from polestar.sims.synthetic import EPOCH, World

SCENARIOS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "my car has been broken into outside {place}, window smashed and bag taken",
        ("THEFT", "CRIMINAL_DAMAGE"),
    ),
    ("a man has just snatched my phone outside {place} and ran off", ("ROBBERY",)),
    ("someone is trying doors of cars near {place}", ("VEHICLE_CRIME", "SUSPICIOUS")),
    ("fight outside {place}, one man bleeding", ("ASSAULT", "VIOLENCE")),
    ("my neighbour's house has been burgled, the door is open", ("BURGLARY",)),
    ("a man outside {place} is waving a knife", ("WEAPON", "PUBLIC_ORDER")),
    ("shoplifter detained by staff at {place}", ("THEFT",)),
    ("loud music from a house party, going on for hours", ()),
    ("elderly man seems lost and confused near {place}", ()),
    ("I want advice about a parking dispute", ()),
)
CHANNELS = ("999", "999", "101", "101", "online")


class GenerateIn(BaseModel):
    """``POST /_sim/generate``."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=10_000)


class WebhookIn(BaseModel):
    """``POST /_sim/webhook``: where each new call is posted, and any headers it needs."""

    model_config = ConfigDict(extra="forbid")

    url: str | None
    headers: dict[str, str] = Field(default_factory=dict)


def make_call(world: World, index: int) -> dict[str, Any]:
    """Call ``index`` of ``world``: the same on every run for the same seed."""
    rng = random.Random(f"{world.seed}:call:{index}")  # noqa: S311 - synthetic data
    place = rng.choice(world.places)
    caller = rng.choice(world.people)
    forenames, family, _ = world.recorded_name(caller, "call-handling")
    text, indicators = rng.choice(SCENARIOS)
    received = EPOCH - timedelta(days=1) + timedelta(minutes=7 * index + rng.randint(0, 6))
    address = place.address
    return {
        "callId": f"CH-{received:%Y%m%d}-{index + 1:05d}",
        "receivedAt": local_iso(received),
        "channel": rng.choice(CHANNELS),
        "caller": {
            "name": f"{forenames.split()[0]} {family}",
            "phone": f"07700 9{rng.randint(0, 99999):05d}",
        },
        "location": {
            "premises": place.name,
            "street": f"{address.number} {address.street}",
            "town": address.town,
            "postcode": address.postcode,
            "lat": address.latitude,
            "lon": address.longitude,
        },
        "description": text.format(place=place.name),
        "crimeIndicators": list(indicators),
        "crimeRelated": bool(indicators),
    }


def create_app(
    world: World | None = None,
    *,
    controls: SimControls | None = None,
    initial: int = 50,
    webhook_url: str | None = None,
) -> FastAPI:
    """The call-handling simulator, starting with ``initial`` calls."""
    world = world or World.build()
    controls = controls or SimControls("call-handling", seed=world.seed)
    calls = [make_call(world, i) for i in range(initial)]
    outbox = Outbox(url=webhook_url)
    app = FastAPI(title="Call handling simulator", description=__doc__)
    install_controls(app, controls)
    app.state.calls = calls
    app.router.add_event_handler("shutdown", outbox.close)

    @app.get("/calls")
    async def feed(after: str | None = None, limit: int = 50) -> dict[str, Any]:
        start = 0
        if after:
            ids = [c["callId"] for c in calls]
            start = ids.index(after) + 1 if after in ids else len(calls)
        page = calls[start : start + max(1, min(limit, 500))]
        return {"calls": page, "next": page[-1]["callId"] if page else after}

    @app.post("/_sim/webhook")
    async def webhook(body: WebhookIn) -> dict[str, Any]:
        outbox.headers = dict(body.headers)
        outbox.retarget(body.url)
        return {"url": outbox.url}

    @app.get("/_sim/events")
    async def events() -> dict[str, Any]:
        return {"events": [e.as_json() for e in outbox.entries]}

    @app.post("/_sim/generate", status_code=201)
    async def generate(body: GenerateIn) -> dict[str, Any]:
        made = [make_call(world, len(calls) + i) for i in range(body.count)]
        calls.extend(made)
        if outbox.url:
            for call in made:
                outbox.put(call, key=call["callId"])
        return {
            "calls": [c["callId"] for c in made],
            "crimeRelated": [c["callId"] for c in made if c["crimeRelated"]],
        }

    return app
