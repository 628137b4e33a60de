"""The custody simulator: custody episodes from arrest to release, exported as CSV files.

Each episode is arrest, booking-in (arrival, detention authorised), detention
reviews, perhaps a footwear impression, and release. ``write_extract``
drops one batch as four CSV files, each written under a ``.part`` name and
renamed, so a folder watcher never takes half a file:

==================================  =================================================================
file                                columns
==================================  =================================================================
``custody-episodes-<stamp>.csv``    exactly what ``examples/integration/mappings/custody.yaml`` reads
``custody-reviews-<stamp>.csv``     custody_no, review_no, due, reviewed, reviewing_officer, outcome,
                                    recorded
``custody-footwear-<stamp>.csv``    custody_no, impression_id, taken, taken_by, recorded
``custody-releases-<stamp>.csv``    custody_no, released, outcome, charge, recorded
==================================  =================================================================

Times are local wall-clock (dd/mm/yyyy), as the custody system keeps them;
names are as the custody officer typed them (sometimes a nickname, a variant
or a typo; sex and postcode sometimes lower case), taken from the shared world.

Endpoints: ``GET /episodes``, ``GET /episodes/{custody_no}`` (the whole
lifecycle as JSON), ``POST /episodes/{custody_no}/correct {"values": {...}}``
(the officer corrects booking-in columns; the record is exported again),
``POST /_sim/generate {"count": n, "omit": [...]}`` (make n more episodes,
optionally with columns left blank, and write them out), and, with
``webhook_url`` set, each booking-in row is also POSTed as JSON (the same
fields) to it.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator

from polestar.sims._clock import LONDON
from polestar.sims._webhook import Outbox
from polestar.sims.harness import SimControls, install_controls
from polestar.sims.synthetic import EPOCH, Person, World

EPISODE_COLUMNS = (
    "custody_no", "suite", "arrest_date", "arrest_time", "arrived", "authorised", "offence", "offence_code",
    "arrest_grounds", "necessity", "grounds_for_detention", "surname", "forenames", "dob", "sex", "pnc_id",
    "address", "postcode", "recorded",
)  # fmt: skip
REVIEW_COLUMNS = ("custody_no", "review_no", "due", "reviewed", "reviewing_officer", "outcome", "recorded")
FOOTWEAR_COLUMNS = ("custody_no", "impression_id", "taken", "taken_by", "recorded")
RELEASE_COLUMNS = ("custody_no", "released", "outcome", "charge", "recorded")

SUITES = (("Charing Cross", "CX"), ("Brixton", "BX"), ("Lewisham", "LW"), ("Islington", "IS"))
OFFENCES = (
    ("robbery of a mobile phone", "034/01"),
    ("theft from a shop", "046/01"),
    ("burglary of a dwelling", "028/01"),
    ("assault occasioning actual bodily harm", "008/06"),
    ("criminal damage to a vehicle", "058/02"),
    ("possession of a bladed article in a public place", "008/22"),
    ("possession of a controlled drug with intent to supply", "092/01"),
    ("driving while disqualified", "803/01"),
)
"""Offences with illustrative Home Office-style codes (not an authoritative code list)."""
NECESSITY = ("PI", "PI;PH", "N;A", "PI;PV", "PH")
ARREST_GROUNDS = (
    "matches the description given by the victim",
    "seen by the attending officer",
    "identified on CCTV",
    "found in possession of the stolen property",
)
DETENTION_GROUNDS = (
    "to secure and preserve evidence",
    "to obtain evidence by questioning",
    "to charge",
)
RELEASE_OUTCOMES = ("CHARGED", "BAIL", "RUI", "NFA", "CAUTION")
_DATE, _MINUTE, _SECOND = "%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"


def _clear_of_clock_change(moment: datetime) -> datetime:
    # The small hours of the last Sunday of March or October are missing or doubled in UK time.
    last_sunday = moment.month in {3, 10} and moment.weekday() == 6 and moment.day > 24
    return moment + timedelta(hours=3) if last_sunday and moment.hour < 3 else moment


@dataclass
class Episode:
    """One custody episode, every stage of it."""

    row: dict[str, str]
    person: Person
    reviews: list[dict[str, str]] = field(default_factory=list)
    footwear: list[dict[str, str]] = field(default_factory=list)
    release: dict[str, str] | None = None

    @property
    def custody_no(self) -> str:
        """The custody record number."""
        return self.row["custody_no"]

    def as_json(self) -> dict[str, Any]:
        """The whole lifecycle."""
        return {
            "booking": self.row,
            "reviews": self.reviews,
            "footwear": self.footwear,
            "release": self.release,
            "world_person": self.person.id,
        }


def make_episode(world: World, index: int) -> Episode:
    """Episode ``index`` of ``world``: the same on every run for the same seed."""
    rng = random.Random(f"{world.seed}:custody:{index}")  # noqa: S311 - synthetic data
    known = world.known_to_police
    person = rng.choice(known) if rng.random() < 0.9 or not world.people else rng.choice(world.people)
    suite, code = SUITES[index % len(SUITES)]
    arrested = _clear_of_clock_change(
        EPOCH - timedelta(days=30) + timedelta(minutes=47 * index + rng.randint(0, 30))
    )
    arrived = arrested + timedelta(minutes=rng.randint(15, 50))
    authorised = arrived + timedelta(minutes=rng.randint(5, 30))
    recorded = authorised + timedelta(minutes=rng.randint(1, 20), seconds=rng.randint(0, 59))
    offence, offence_code = rng.choice(OFFENCES)
    forenames, surname, _ = world.recorded_name(person, "custody")
    address = person.address
    row = {
        "custody_no": f"01{code}/{index + 1:06d}/{arrived.year % 100:02d}",
        "suite": suite,
        "arrest_date": arrested.strftime(_DATE),
        "arrest_time": arrested.strftime("%H:%M"),
        "arrived": arrived.strftime(_MINUTE),
        "authorised": authorised.strftime(_MINUTE),
        "offence": offence,
        "offence_code": offence_code,
        "arrest_grounds": rng.choice(ARREST_GROUNDS),
        "necessity": rng.choice(NECESSITY),
        "grounds_for_detention": rng.choice(DETENTION_GROUNDS),
        "surname": surname,
        "forenames": forenames,
        "dob": person.date_of_birth.strftime(_DATE),
        "sex": person.sex.lower() if rng.random() < 0.3 else person.sex,
        "pnc_id": person.pnc_id or "",
        "address": ", ".join([*address.lines]),
        "postcode": address.postcode.lower() if rng.random() < 0.3 else address.postcode,
        "recorded": recorded.strftime(_SECOND),
    }
    episode = Episode(row=row, person=person)
    held = timedelta(hours=rng.randint(3, 30))
    due = authorised + timedelta(hours=6)
    review_no = 0
    while due < authorised + held:
        review_no += 1
        reviewed = due - timedelta(minutes=rng.randint(0, 20))
        episode.reviews.append(
            {
                "custody_no": row["custody_no"],
                "review_no": str(review_no),
                "due": due.strftime(_MINUTE),
                "reviewed": reviewed.strftime(_MINUTE),
                "reviewing_officer": f"Insp {rng.randint(100, 999)}",
                "outcome": "continued detention authorised",
                "recorded": (reviewed + timedelta(minutes=5)).strftime(_SECOND),
            }
        )
        due = reviewed + timedelta(hours=9)
    if rng.random() < 0.6:
        taken = arrived + timedelta(minutes=rng.randint(40, 120))
        episode.footwear.append(
            {
                "custody_no": row["custody_no"],
                "impression_id": f"FW-{row['custody_no'].replace('/', '-')}-1",
                "taken": taken.strftime(_MINUTE),
                "taken_by": f"DO {rng.randint(1000, 9999)}",
                "recorded": (taken + timedelta(minutes=3)).strftime(_SECOND),
            }
        )
    released = authorised + held
    outcome = rng.choice(RELEASE_OUTCOMES)
    episode.release = {
        "custody_no": row["custody_no"],
        "released": released.strftime(_MINUTE),
        "outcome": outcome,
        "charge": offence if outcome == "CHARGED" else "",
        "recorded": (released + timedelta(minutes=4)).strftime(_SECOND),
    }
    return episode


def _csv(columns: tuple[str, ...], rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


class CustodySimulator:
    """The custody system: its episodes, and the extract files it drops."""

    def __init__(self, world: World, folder: Path | None = None, webhook_url: str | None = None) -> None:
        self.world = world
        self.folder = folder
        self.episodes: dict[str, Episode] = {}
        self.files: list[str] = []
        self.outbox = Outbox(url=webhook_url)
        self._next = 0
        self._batches = 0

    def generate(self, count: int) -> list[Episode]:
        """The next ``count`` episodes."""
        made = [make_episode(self.world, self._next + i) for i in range(count)]
        self._next += count
        self.episodes.update((e.custody_no, e) for e in made)
        return made

    def write_extract(self, episodes: list[Episode]) -> list[Path]:
        """Write ``episodes`` as the four extract files; the episodes file last, so it means "complete"."""
        if self.folder is None:
            return []
        self.folder.mkdir(parents=True, exist_ok=True)
        self._batches += 1
        stamp = f"{datetime.now(tz=None).strftime('%Y%m%dT%H%M%S')}-{self._batches:04d}"  # noqa: DTZ005 - local, as custody names files
        parts = (
            ("reviews", REVIEW_COLUMNS, [r for e in episodes for r in e.reviews]),
            ("footwear", FOOTWEAR_COLUMNS, [f for e in episodes for f in e.footwear]),
            ("releases", RELEASE_COLUMNS, [e.release for e in episodes if e.release]),
            ("episodes", EPISODE_COLUMNS, [e.row for e in episodes]),
        )
        written = []
        for kind, columns, rows in parts:
            path = self.folder / f"custody-{kind}-{stamp}.csv"
            temp = path.with_name(path.name + ".part")
            temp.write_bytes(_csv(columns, rows))
            temp.replace(path)
            written.append(path)
            self.files.append(path.name)
        return written

    def push(self, episodes: list[Episode]) -> None:
        """Queue each booking-in row for the webhook (no-op without one)."""
        if self.outbox.url is None:
            return
        for episode in episodes:
            self.outbox.put(dict(episode.row), key=episode.custody_no)


OMITTABLE = frozenset(EPISODE_COLUMNS) - {"custody_no", "arrived", "recorded"}
"""Booking-in columns an officer may leave blank (the record number and times are the system's)."""


class GenerateIn(BaseModel):
    """``POST /_sim/generate``."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1, le=10_000)
    omit: list[str] = Field(
        default_factory=list,
        description="Booking-in columns left blank in these episodes, as a hurried officer might.",
        examples=[["dob"]],
    )

    @field_validator("omit")
    @classmethod
    def _omittable(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - OMITTABLE)
        if unknown:
            raise ValueError(f"cannot leave out {unknown}; columns that may be blank: {sorted(OMITTABLE)}")
        return value


class CorrectionIn(BaseModel):
    """``POST /episodes/{custody_no}/correct``: booking-in columns corrected by the custody officer."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, str] = Field(
        min_length=1, description="Column to its corrected value.", examples=[{"dob": "17/03/1994"}]
    )

    @field_validator("values")
    @classmethod
    def _correctable(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - OMITTABLE)
        if unknown:
            raise ValueError(f"cannot correct {unknown}; columns that may be corrected: {sorted(OMITTABLE)}")
        return value


def create_app(
    world: World | None = None,
    *,
    folder: Path | None = None,
    controls: SimControls | None = None,
    webhook_url: str | None = None,
    initial: int = 0,
) -> FastAPI:
    """The custody simulator; ``initial`` episodes are made (and written, with a folder) at start."""
    world = world or World.build()
    controls = controls or SimControls("custody", seed=world.seed)
    sim = CustodySimulator(world, folder, webhook_url)
    if initial:
        sim.write_extract(sim.generate(initial))
    app = FastAPI(title="Custody simulator", description=__doc__)
    install_controls(app, controls)
    app.state.custody = sim
    app.router.add_event_handler("shutdown", sim.outbox.close)

    @app.get("/episodes")
    async def episodes() -> dict[str, Any]:
        return {"episodes": [e.row for e in sim.episodes.values()]}

    @app.get("/episodes/{custody_no:path}")
    async def episode(custody_no: str) -> dict[str, Any]:
        found = sim.episodes.get(custody_no)
        if found is None:
            raise HTTPException(404, f"no custody record {custody_no}")
        return found.as_json()

    @app.post("/episodes/{custody_no:path}/correct")
    async def correct(custody_no: str, body: CorrectionIn) -> dict[str, Any]:
        found = sim.episodes.get(custody_no)
        if found is None:
            raise HTTPException(404, f"no custody record {custody_no}")
        found.row.update(body.values)
        found.row["recorded"] = datetime.now(LONDON).strftime(_SECOND)
        files = sim.write_extract([found])
        sim.push([found])
        return {"episode": custody_no, "files": [p.name for p in files]}

    @app.post("/_sim/generate", status_code=201)
    async def generate(body: GenerateIn) -> dict[str, Any]:
        made = sim.generate(body.count)
        for episode in made:
            episode.row.update(dict.fromkeys(body.omit, ""))
        files = sim.write_extract(made)
        sim.push(made)
        return {"episodes": [e.custody_no for e in made], "files": [p.name for p in files]}

    return app
