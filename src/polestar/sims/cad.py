"""The CAD simulator: incidents from calls, graded, units assigned; events out, unit status in.

=========================================  ============================================================
endpoint                                   what it does
=========================================  ============================================================
``POST /calls``                            a call becomes an incident: graded by keywords (G1 to G4), the
                                           first available unit assigned (none for G4); 201 + incident.
                                           A ``callId`` CAD already has answers its incident again
``GET /incidents``, ``/incidents/{no}``    incidents as CAD holds them
``POST /incidents/{no}/status``            a unit's status in: ``{"callSign", "status", "sequence"?}``;
                                           409 with the reason for an unassigned unit, a transition
                                           CAD does not allow, or a sequence at or below the last one
``PUT /incidents/{no}/crime-reference``    links a crime reference number to the incident
``GET /units``                             the unit pool and each unit's state
``POST /_sim/webhook``                     ``{"url": …, "headers"?: {…}}`` where events go (the hub's HTTP
                                           ingest) and with which headers (a bearer token)
``GET /_sim/events``                       the outbox: every event and whether it was delivered
``POST /_sim/generate``                    ``{"count": n}`` calls made up from the shared world
=========================================  ============================================================

Every change is an event POSTed to the webhook, in order, as the whole
incident in CAD's JSON (the shape ``examples/integration/mappings/cad.yaml``
reads) plus ``eventType`` and a per-incident ``sequence`` starting at 1.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from polestar.sims._clock import Clock, local_iso, london_now
from polestar.sims._webhook import Outbox
from polestar.sims.harness import SimControls, install_controls, note
from polestar.sims.synthetic import World

DEFAULT_UNITS = ("CX21", "CX22", "CX30", "BX11", "BX12", "LW05", "LW06", "IS40", "IS41", "TS99")

GRADE_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "G1",
        (
            "knife",
            "gun",
            "firearm",
            "weapon",
            "stabbed",
            "shot",
            "not breathing",
            "fire",
            "threatening",
            "in progress",
            "attacking",
            "kidnap",
        ),
    ),
    (
        "G2",
        (
            "burglary",
            "break-in",
            "assault",
            "fight",
            "domestic",
            "missing child",
            "collision",
            "shoplifter detained",
            "suspicious",
        ),
    ),
    ("G4", ("lost property", "advice", "noise", "parking")),
)
"""First grade whose keyword appears in the call's description; otherwise G3."""

UNIT_TRANSITIONS: dict[str, frozenset[str]] = {
    "ASSIGNED": frozenset({"ENROUTE"}),
    "ENROUTE": frozenset({"ONSCENE", "CLEARED"}),
    "ONSCENE": frozenset({"CLEARED"}),
    "CLEARED": frozenset(),
}
"""Statuses a unit may move to from each status (CLEARED from ENROUTE: stood down)."""

_PROGRESS = ("GRADED", "ASSIGNED", "ENROUTE", "ONSCENE", "CLEARED")


def grade_for(description: str) -> str:
    """The response grade CAD gives a call with this description."""
    text = description.lower()
    for grade, words in GRADE_KEYWORDS:
        if any(word in text for word in words):
            return grade
    return "G3"


class CallLocation(BaseModel):
    """Where the caller says it is."""

    model_config = ConfigDict(extra="forbid")

    premises: str | None = None
    street: str | None = None
    town: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None


class CallIn(BaseModel):
    """``POST /calls``: a call from the call-handling system."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=3)
    location: CallLocation
    callId: str | None = None  # noqa: N815 - CAD's own field names are camelCase
    caller: dict[str, str] | None = None


class StatusIn(BaseModel):
    """``POST /incidents/{no}/status``: a unit's status from its in-vehicle app."""

    model_config = ConfigDict(extra="forbid")

    callSign: str  # noqa: N815 - CAD's own field names are camelCase
    status: str
    sequence: int | None = Field(default=None, ge=1)


class WebhookIn(BaseModel):
    """``POST /_sim/webhook``."""

    model_config = ConfigDict(extra="forbid")

    url: str | None
    headers: dict[str, str] | None = Field(
        default=None, description="Headers sent with every event from now on (e.g. the hub's bearer token)."
    )


class GenerateIn(BaseModel):
    """``POST /_sim/generate``."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=1000)


@dataclass
class Incident:
    """An incident as CAD keeps it."""

    number: str
    created: str
    description: str
    grade: str
    location: dict[str, Any]
    caller: dict[str, str] | None
    call_id: str | None
    status: str = "GRADED"
    last_updated: str = ""
    status_log: list[dict[str, Any]] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)  # call sign -> unit status
    sequence: int = 0
    unit_sequences: dict[str, int] = field(default_factory=dict)
    crime_reference: str | None = None

    def as_json(self) -> dict[str, Any]:
        """CAD's incident JSON."""
        body: dict[str, Any] = {
            "incidentNumber": self.number,
            "created": self.created,
            "lastUpdated": self.last_updated or self.created,
            "description": self.description,
            "grade": self.grade,
            "status": self.status,
            "statusLog": list(self.status_log),
            "units": [{"callSign": c, "assigned": s != "CLEARED"} for c, s in self.units.items()],
            "location": self.location,
        }
        if self.caller:
            body["caller"] = self.caller
        if self.call_id:
            body["callId"] = self.call_id
        if self.crime_reference:
            body["crimeReference"] = self.crime_reference
        return body


class CadSimulator:
    """Incidents, units and the ordered event outbox."""

    def __init__(
        self,
        world: World,
        *,
        units: tuple[str, ...] = DEFAULT_UNITS,
        clock: Clock = london_now,
        webhook_url: str | None = None,
    ) -> None:
        self.world = world
        self.clock = clock
        self.units: dict[str, str | None] = dict.fromkeys(units)  # call sign -> incident or None
        self.incidents: dict[str, Incident] = {}
        self.outbox = Outbox(url=webhook_url)
        self._numbers: dict[str, int] = {}
        self._random = random.Random(f"{world.seed}:cad")  # noqa: S311 - synthetic data

    def _number(self, day: str) -> str:
        self._numbers[day] = self._numbers.get(day, 0) + 1
        return f"INC-{day}-{self._numbers[day]:04d}"

    def _emit(self, incident: Incident, event_type: str) -> None:
        incident.sequence += 1
        incident.last_updated = local_iso(self.clock())
        body = {"eventType": event_type, "sequence": incident.sequence, **incident.as_json()}
        self.outbox.put(body, key=f"{incident.number}:{incident.sequence}")

    def create(self, call: CallIn) -> Incident:
        """Open, grade and (unless G4) assign a unit to an incident from ``call``.

        A call CAD already has (the same ``callId``, e.g. a retried delivery) gives its incident again.
        """
        if call.callId:
            for known in self.incidents.values():
                if known.call_id == call.callId:
                    return known
        now = self.clock()
        incident = Incident(
            number=self._number(now.strftime("%Y%m%d")),
            created=local_iso(now),
            description=call.description,
            grade=grade_for(call.description),
            location=call.location.model_dump(exclude_none=True),
            caller=call.caller,
            call_id=call.callId,
        )
        incident.status_log.append({"status": "GRADED", "at": local_iso(now)})
        self.incidents[incident.number] = incident
        self._emit(incident, "INCIDENT_CREATED")
        if incident.grade != "G4":
            free = [sign for sign, busy in self.units.items() if busy is None]
            if free:
                sign = free[0]
                self.units[sign] = incident.number
                incident.units[sign] = "ASSIGNED"
                incident.status = "ASSIGNED"
                incident.status_log.append(
                    {"status": "ASSIGNED", "at": local_iso(self.clock()), "callSign": sign}
                )
                self._emit(incident, "UNIT_ASSIGNED")
        return incident

    def status(self, number: str, update: StatusIn) -> Incident:
        """Apply a unit status; ``HTTPException`` 404/409/422 with the reason when CAD refuses it."""
        incident = self.incidents.get(number)
        if incident is None:
            raise HTTPException(404, f"no incident {number}")
        sign, status = update.callSign.upper(), update.status.upper().replace("-", "").replace(" ", "")
        if status not in UNIT_TRANSITIONS:
            raise HTTPException(422, f"status {update.status!r} is not one of {sorted(UNIT_TRANSITIONS)}")
        current = incident.units.get(sign)
        if current is None:
            raise HTTPException(409, f"unit {sign} is not assigned to {number}")
        last = incident.unit_sequences.get(sign, 0)
        if update.sequence is not None and update.sequence <= last:
            raise HTTPException(
                409, f"out of order: sequence {update.sequence} from {sign} is not after {last}"
            )
        if status not in UNIT_TRANSITIONS[current]:
            raise HTTPException(409, f"unit {sign} cannot go from {current} to {status}")
        if update.sequence is not None:
            incident.unit_sequences[sign] = update.sequence
        incident.units[sign] = status
        incident.status_log.append({"status": status, "at": local_iso(self.clock()), "callSign": sign})
        if status == "CLEARED":
            self.units[sign] = None
        active = [s for s in incident.units.values() if s != "CLEARED"]
        incident.status = max(active, key=_PROGRESS.index) if active else "CLEARED"
        self._emit(incident, "UNIT_STATUS" if status != "CLEARED" else "UNIT_CLEARED")
        return incident

    def link_crime(self, number: str, reference: str) -> Incident:
        """Record the crime reference number crime recording gave for this incident."""
        incident = self.incidents.get(number)
        if incident is None:
            raise HTTPException(404, f"no incident {number}")
        incident.crime_reference = reference
        self._emit(incident, "CRIME_REFERENCE_LINKED")
        return incident

    def generated_call(self) -> CallIn:
        """A call made up from the world: a real place, a known person as caller or subject."""
        rng = self._random
        place = rng.choice(self.world.places)
        person = rng.choice(self.world.known_to_police)
        given, family, _ = self.world.recorded_name(person, "cad")
        what = rng.choice(
            (
                f"caller reports a man threatening staff with a knife at {place.name}",
                f"shoplifter detained by security at {place.name}, named as {given} {family}",
                f"fight outside {place.name}, two males, one possibly {given} {family}",
                f"suspicious vehicle parked outside {place.name} for several hours",
                f"lost property handed in at {place.name}",
                f"burglary in progress at the flat above {place.name}",
            )
        )
        address = place.address
        return CallIn(
            description=what,
            location=CallLocation(
                premises=place.name,
                street=f"{address.number} {address.street}",
                town=address.town,
                postcode=address.postcode,
                lat=address.latitude,
                lon=address.longitude,
            ),
            caller={"name": f"{given} {family}", "phone": f"07700 9{rng.randint(0, 99999):05d}"},
        )


def create_app(
    world: World | None = None,
    *,
    controls: SimControls | None = None,
    webhook_url: str | None = None,
    units: tuple[str, ...] = DEFAULT_UNITS,
    clock: Clock = london_now,
) -> FastAPI:
    """The CAD simulator as an ASGI app; events go to ``webhook_url`` (settable at ``/_sim/webhook``)."""
    world = world or World.build()
    controls = controls or SimControls("cad", seed=world.seed)
    sim = CadSimulator(world, units=units, clock=clock, webhook_url=webhook_url)
    app = FastAPI(title="CAD simulator", description=__doc__)
    install_controls(app, controls)
    app.state.cad = sim
    app.router.add_event_handler("shutdown", sim.outbox.close)

    @app.post("/calls", status_code=201)
    async def call(body: CallIn, request: Request) -> dict[str, Any]:
        incident = sim.create(body)
        note(request, incident=incident.number, grade=incident.grade, units=list(incident.units))
        return incident.as_json()

    @app.get("/incidents")
    async def incidents() -> dict[str, Any]:
        return {"incidents": [i.as_json() for i in sim.incidents.values()]}

    @app.get("/incidents/{number}")
    async def incident(number: str) -> dict[str, Any]:
        found = sim.incidents.get(number)
        if found is None:
            raise HTTPException(404, f"no incident {number}")
        return found.as_json()

    @app.post("/incidents/{number}/status")
    async def status(number: str, body: StatusIn, request: Request) -> dict[str, Any]:
        note(request, incident=number, unit=body.callSign, status=body.status, sequence=body.sequence)
        return sim.status(number, body).as_json()

    @app.put("/incidents/{number}/crime-reference")
    async def crime_reference(number: str, body: dict[str, str]) -> dict[str, Any]:
        reference = body.get("crimeReference")
        if not reference:
            raise HTTPException(422, "crimeReference is required")
        return sim.link_crime(number, reference).as_json()

    @app.get("/units")
    async def units_state() -> dict[str, Any]:
        return {"units": [{"callSign": s, "incident": i} for s, i in sim.units.items()]}

    @app.post("/_sim/webhook")
    async def webhook(body: WebhookIn) -> dict[str, Any]:
        if body.headers is not None:
            sim.outbox.headers = dict(body.headers)
        sim.outbox.retarget(body.url)
        return {"url": body.url, "headers": sorted(sim.outbox.headers)}

    @app.get("/_sim/events")
    async def events() -> dict[str, Any]:
        return {"url": sim.outbox.url, "events": [e.as_json() for e in sim.outbox.entries]}

    @app.post("/_sim/generate", status_code=201)
    async def generate(body: GenerateIn) -> dict[str, Any]:
        made = [sim.create(sim.generated_call()).number for _ in range(body.count)]
        return {"incidents": made}

    return app
