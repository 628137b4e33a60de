"""The store in the running hub: ingest rate from the bus, and API latency per search type.

An embedded hub (SQLite bus and store, audit on, authentication off) is started
in-process. ``--people`` people, each with a home address and a car and linked
to both, plus one crime per ten people at a home, are published on the bus as
canonical events; the rate is events applied per second until the store's
consumer has settled all of them (apply, search keys, entity resolution and
the audit log's collection entry for each), with the process's CPU time per
event beside it (steadier than the rate on a shared machine). Then ``--queries`` requests of each
search type go through the HTTP API (ASGI, no network), each timed end to end
including the audit log's consultation entry.

Run: ``.venv/bin/python bench/store_hub.py [--people 2000] [--queries 100]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from _report import percentile, report
from polestar.api import create_app
from polestar.config import HubConfig
from polestar.model import Crime, Link, Location, Person, Vehicle, to_envelope
from polestar.model.common import Entity
from polestar.security.config import AuthenticationMode, SecurityConfig

GIVEN = ["Robert", "Sarah", "Aled", "Ceri", "Megan", "Tomos", "Rhian", "Gareth", "Lowri", "Dylan"]
FAMILY = ["Smith", "Jones", "Williams", "Davies", "Evans", "Thomas", "Roberts", "Hughes", "Lewis", "Morgan"]
STREETS = ["Acacia Avenue", "Cedar Road", "High Street", "Mill Lane", "Church Road", "Park View"]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
WHO = {"X-Polestar-Actor": "user:bench", "X-Polestar-Purpose": "benchmark"}
TYPES = {"person": "person.created", "vehicle": "vehicle.created", "location": "location.created"}


def prov(system: str) -> dict[str, Any]:
    return {"organisation": "01", "system": system, "observed_at": T0, "recorded_at": T0}


def world(people: int, rng: random.Random) -> list[Entity]:
    """People with a home and a car each; a crime at every tenth home."""
    made: list[Entity] = []
    for n in range(people):
        born = T0.date() - timedelta(days=rng.randint(18 * 365, 70 * 365))
        made.append(
            Person(
                id=f"p{n}",
                name={"given": rng.choice(GIVEN), "family": f"{rng.choice(FAMILY)}{n % 97 or ''}"},
                date_of_birth=born.isoformat(),
                provenance=prov("custody"),
            )
        )
        made.append(
            Location(
                id=f"l{n}",
                address={
                    "lines": [f"{n % 200 + 1} {rng.choice(STREETS)}"],
                    "town": "Swansea",
                    "postcode": "SA2 0AB",
                },
                coordinates={
                    "latitude": 51.6 + rng.uniform(-0.05, 0.05),
                    "longitude": -3.95 + rng.uniform(-0.05, 0.05),
                },
                provenance=prov("cad"),
            )
        )
        made.append(
            Vehicle(
                id=f"v{n}",
                registration={"mark": _mark(n)},
                make="Ford",
                provenance=prov("pnc"),
            )
        )
        for role, end in (("resident", ("location", f"l{n}")), ("keeper", ("vehicle", f"v{n}"))):
            made.append(
                Link(
                    id=f"k{role[0]}{n}",
                    role=role,
                    from_ref={"type": "person", "id": f"p{n}"},
                    to_ref={"type": end[0], "id": end[1]},
                    provenance=prov("cad"),
                )
            )
        if n % 10 == 0:
            made.append(
                Crime(id=f"c{n}", reported_at=T0, summary="burglary", provenance=prov("crime-recording"))
            )
            made.append(
                Link(
                    id=f"ks{n}",
                    role="scene",
                    from_ref={"type": "location", "id": f"l{n}"},
                    to_ref={"type": "crime", "id": f"c{n}"},
                    provenance=prov("cad"),
                )
            )
    return made


def _mark(n: int) -> str:
    """A current-format UK mark, distinct for every n below 90 x 23^3."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    tail = "".join(letters[(n // 90 // len(letters) ** i) % len(letters)] for i in range(3))
    return f"AB{n % 90 + 10:02d} {tail}"


async def settled(client: httpx.AsyncClient, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = (await client.get("/bus/stats", headers=WHO)).json()
        group = next((g for g in stats["groups"] if g["group"] == "store-writer"), None)
        idle = group and group["pending"] == group["in_flight"] == group["redelivering"] == 0
        if idle and group["last_sequence"] >= stats["last_sequence"]:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("the store did not settle in time")


async def run(people: int, queries: int) -> list[dict[str, Any]]:
    rng = random.Random(6)
    with tempfile.TemporaryDirectory() as folder:
        config = HubConfig(
            data_dir=Path(folder), security=SecurityConfig(authentication=AuthenticationMode.OFF)
        )
        app = create_app(config)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub", timeout=60) as client:
                bus = app.state.hub.bus.engine
                entities = world(people, rng)
                started, cpu = time.perf_counter(), time.process_time()
                envelopes = [
                    to_envelope(
                        e, type=TYPES.get(e.schema_name, _type(e)), source="/bench", actor="system:bench"
                    )
                    for e in entities
                ]
                for start in range(0, len(envelopes), 500):
                    await bus.publish_many([(e, None) for e in envelopes[start : start + 500]])
                await settled(client, timeout=3600)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                rows = [
                    {
                        "query": "ingest (events/s)",
                        "n": len(envelopes),
                        "rate": round(len(envelopes) / elapsed, 1),
                        "cpu_ms_per_event": round(cpu * 1000 / len(envelopes), 2),
                    }
                ]
                for name, call in _queries(rng, people).items():
                    timings = []
                    for _ in range(queries):
                        begin = time.perf_counter()
                        response = await call(client)
                        timings.append((time.perf_counter() - begin) * 1000)
                        assert response.status_code == 200, response.text
                    rows.append(
                        {
                            "query": name,
                            "n": queries,
                            "p50_ms": round(percentile(timings, 50), 1),
                            "p95_ms": round(percentile(timings, 95), 1),
                        }
                    )
    return rows


def _type(entity: Entity) -> str:
    return "link.created" if entity.schema_name == "link" else "crime.report.drafted"


def _queries(rng: random.Random, people: int) -> dict[str, Any]:
    def pick() -> int:
        return rng.randrange(people)

    return {
        "people (name + year)": lambda c: c.post(
            "/search/people",
            json={"given": rng.choice(GIVEN), "family": rng.choice(FAMILY), "date_of_birth": "1980"},
            headers=WHO,
        ),
        "locations (text)": lambda c: c.post(
            "/search/locations", json={"text": f"{rng.randint(1, 200)} {rng.choice(STREETS)}"}, headers=WHO
        ),
        "locations (500 m radius)": lambda c: c.post(
            "/search/locations",
            json={"near": {"latitude": 51.6, "longitude": -3.95, "radius_m": 500}},
            headers=WHO,
        ),
        "events (crime, 1 km)": lambda c: c.post(
            "/search/events",
            json={
                "kinds": ["crime"],
                "area": {"near": {"latitude": 51.6, "longitude": -3.95, "radius_m": 1000}},
            },
            headers=WHO,
        ),
        "links (2 hops)": lambda c: c.get(f"/search/links/p{pick()}", params={"hops": 2}, headers=WHO),
        "prefill (person + car + place)": lambda c: c.post(
            "/prefill",
            json={
                "people": [{"given": rng.choice(GIVEN), "family": rng.choice(FAMILY)}],
                "vehicles": [{"registration": "AB1*"}],
                "places": [{"text": f"{rng.randint(1, 200)} {rng.choice(STREETS)}", "postcode": "SA2 0AB"}],
            },
            headers=WHO,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    rows = asyncio.run(run(args.people, args.queries))
    report(
        "store_hub",
        f"Store in the embedded hub: {args.people} people, their homes, cars, links and crimes",
        ["query", "n", "rate", "cpu_ms_per_event", "p50_ms", "p95_ms"],
        rows,
        notes="Ingest: bus -> store -> search keys -> resolution -> audit, until settled. "
        "CPU per event is this process's (hub and bench) CPU time over the ingest. "
        "Latency: HTTP (ASGI) including the audit log's consultation entry.",
    )


if __name__ == "__main__":
    main()
