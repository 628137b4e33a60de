"""The hub with its store, and a small world of canonical records, for the store and search tests.

``hub`` runs an embedded hub (SQLite bus and store) and a cluster one (NATS
JetStream and PostgreSQL in the test's own schema), publishes ``world()`` on
its bus and waits until the store's consumer has settled it.

Security is on, as in production: the hub's client carries a real token (every
role, full clearance: these tests are about the store and search), and
``hub.token(...)`` mints others for the tests about who may see what.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from polestar.api import create_app
from polestar.bus.config import JetStreamBusConfig
from polestar.bus.jetstream import JetStreamEngine
from polestar.config import HubConfig, Profile, StoreConfig
from polestar.errors import BusError
from polestar.model import Crime, Link, Location, Person, Vehicle, to_envelope
from polestar.model.common import Entity
from polestar.model.envelope import Envelope
from polestar.security.testing import auth_headers

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PURPOSE = "crime report 5201234/26"
WHO = {"X-Polestar-Purpose": PURPOSE}
"""Why the tests search (the caller is the client's token)."""
SKETTY = (51.6155, -3.9880)
TYPES = {
    "person": "person.updated",
    "vehicle": "vehicle.updated",
    "location": "location.updated",
    "crime": "crime.report.drafted",
    "link": "link.created",
}


def prov(system: str = "custody", minutes: int = 0) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    return {"organisation": "01", "system": system, "observed_at": at, "recorded_at": at}


def envelope(entity: Entity) -> Envelope:
    return to_envelope(
        entity, type=TYPES[entity.schema_name], source="/connectors/test", actor="system:custody"
    )


def link(lid: str, role: str, start: tuple[str, str], end: tuple[str, str]) -> Link:
    return Link(
        id=lid,
        role=role,
        from_ref={"type": start[0], "id": start[1]},
        to_ref={"type": end[0], "id": end[1]},
        provenance=prov("cad"),
    )


def world() -> list[Entity]:
    """Robert Smith, his car and home, a crime at his home, and two associates in a chain."""
    return [
        Person(
            id="p1",
            name={"given": "Robert", "family": "Smith"},
            date_of_birth="1985-06-14",
            identifiers=[{"type": "PNC", "value": "2004/0123456B"}],
            provenance=prov(),
        ),
        Person(
            id="p2",
            name={"given": "Aled", "family": "Pritchard"},
            date_of_birth="1990-01-02",
            provenance=prov(),
        ),
        Person(
            id="p3",
            name={"given": "Ceri", "family": "Vaughan"},
            date_of_birth="1979-11-30",
            provenance=prov(),
        ),
        Vehicle(
            id="v1", registration={"mark": "AB12 CDE"}, make="Ford", model="Focus", provenance=prov("pnc")
        ),
        Location(
            id="l1",
            address={"lines": ["14 Acacia Avenue", "Sketty"], "town": "Swansea", "postcode": "SA2 0AB"},
            coordinates={"latitude": SKETTY[0], "longitude": SKETTY[1]},
            provenance=prov("cad"),
        ),
        Location(
            id="l2",
            address={"lines": ["1 Castle Street"], "town": "Cardiff", "postcode": "CF10 1BH"},
            coordinates={"latitude": 51.4816, "longitude": -3.1791},
            provenance=prov("cad"),
        ),
        Crime(id="c1", reported_at=T0, summary="burglary at the house", provenance=prov("crime-recording")),
        link("k1", "keeper", ("person", "p1"), ("vehicle", "v1")),
        link("k2", "resident", ("person", "p1"), ("location", "l1")),
        link("k3", "scene", ("location", "l1"), ("crime", "c1")),
        link("k4", "associate", ("person", "p1"), ("person", "p2")),
        link("k5", "associate", ("person", "p2"), ("person", "p3")),
    ]


@pytest.fixture(params=["embedded", pytest.param("cluster", marks=[pytest.mark.postgres, pytest.mark.nats])])
async def hub_config(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[HubConfig]:
    if request.param == "embedded":
        yield HubConfig(data_dir=tmp_path)
        return
    unique = request.getfixturevalue("unique")
    schema = request.getfixturevalue("postgres_schema")
    base = request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+asyncpg://", 1)
    bus = JetStreamBusConfig(
        servers=(request.getfixturevalue("nats_url"),), stream_prefix=unique.upper(), subject_prefix=unique
    )
    yield HubConfig(
        profile=Profile.CLUSTER,
        data_dir=tmp_path,
        bus=bus,
        store=StoreConfig(url=f"{base}?options=-csearch_path%3D{schema}"),
    )
    cleaner = JetStreamEngine(bus)
    with contextlib.suppress(BusError):
        await cleaner.start()
        await cleaner.destroy()
    await cleaner.close()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            assert value, "condition not met in time"
            return value
        await asyncio.sleep(0.1)


async def settled(client: httpx.AsyncClient) -> None:
    """Wait until the store's consumer has settled everything published so far."""

    async def caught_up() -> bool:
        stats = (await client.get("/bus/stats", headers=WHO)).json()
        group = next((g for g in stats["groups"] if g["group"] == "store-writer"), None)
        return (
            group is not None
            and group["pending"] == group["in_flight"] == group["redelivering"] == 0
            and group["last_sequence"] >= stats["last_sequence"]
        )

    await eventually(caught_up)


@dataclass
class Hub:
    client: httpx.AsyncClient
    """Carries a token with every role and full clearance."""
    bus: Any
    app: FastAPI
    config: HubConfig

    def token(self, **claims: Any) -> dict[str, str]:
        """``Authorization`` (and the test purpose) for a caller with these claims (see ``auth_headers``)."""
        return auth_headers(self.config, purpose=PURPOSE, **claims)


@pytest.fixture
async def hub(hub_config: HubConfig) -> AsyncIterator[Hub]:
    app = create_app(hub_config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = auth_headers(hub_config)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub", headers=headers) as client:
            bus = app.state.hub.bus.engine
            for entity in world():
                await bus.publish(envelope(entity))
            await settled(client)
            yield Hub(client, bus, app, hub_config)
