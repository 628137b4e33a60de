"""The hub in the cluster profile: its API on a real NATS JetStream bus, and on a NATS that is down."""

import contextlib
import socket
import time

import httpx
import pytest

from polestar.api import create_app
from polestar.bus.config import JetStreamBusConfig
from polestar.bus.contract import ConsumerSpec
from polestar.bus.jetstream import JetStreamEngine
from polestar.config import HubConfig, Profile, StoreConfig
from polestar.errors import BusError
from polestar.model.envelope import Envelope
from polestar.security.testing import auth_headers

ACTOR = {"X-Polestar-Actor": "user:pc1234"}
READER = {**ACTOR, "X-Polestar-Purpose": "finding why a delivery failed"}
GROUP = "custody-to-footwear"


@pytest.fixture
def store(postgres_url, postgres_schema) -> StoreConfig:
    """The real PostgreSQL, in this test's own schema: the audit log lives there in a cluster."""
    base = postgres_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    return StoreConfig(url=f"{base}?options=-csearch_path%3D{postgres_schema}")


def cluster_config(tmp_path, bus: JetStreamBusConfig, store: StoreConfig) -> HubConfig:
    return HubConfig(profile=Profile.CLUSTER, data_dir=tmp_path, bus=bus, store=store)


def client_for(app):
    headers = auth_headers(app.state.hub.config, subject="user:pc1234")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub.test", headers=headers
    )


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def jetstream(nats_url, unique):
    """A JetStream bus configuration of this test's own; its streams are deleted afterwards."""
    config = JetStreamBusConfig(servers=(nats_url,), stream_prefix=unique.upper(), subject_prefix=unique)
    yield config
    cleaner = JetStreamEngine(config)
    with contextlib.suppress(BusError):
        await cleaner.start()
        await cleaner.destroy()
    await cleaner.close()


@pytest.mark.nats
@pytest.mark.postgres
async def test_cluster_hub_operates_dead_letters_on_jetstream(tmp_path, jetstream, store):
    app = create_app(cluster_config(tmp_path, jetstream, store))
    async with app.router.lifespan_context(app), client_for(app) as client:
        ready = await client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert {"name": "bus", "status": "ok"} in ready.json()["components"]

        engine = app.state.hub.bus.engine
        consumer = await engine.subscribe(ConsumerSpec(group=GROUP, ack_wait=5))
        await engine.publish(Envelope(source="/connectors/custody", type="custody.detainee.released"))
        (delivery,) = await consumer.fetch(1, timeout=5)
        await delivery.reject("footwear database refused: image missing")

        stats = (await client.get("/bus/stats", headers=ACTOR)).json()
        assert stats["engine"] == "jetstream"
        assert stats["dead_letters"] == 1
        (dead,) = (await client.get("/bus/dead-letters", headers=ACTOR)).json()["dead_letters"]
        assert dead["group"] == GROUP
        shown = await client.get(f"/bus/dead-letters/{dead['id']}", headers=READER)
        assert shown.json()["attempts"][0]["reason"] == "footwear database refused: image missing"

        replayed = await client.post(
            f"/bus/dead-letters/{dead['id']}/replay", json={"reason": "image re-sent"}, headers=ACTOR
        )
        assert replayed.status_code == 200, replayed.text
        (again,) = await consumer.fetch(1, timeout=5)
        assert again.attempt == 1
        await again.reject("still no image")

        (second,) = (await client.get("/bus/dead-letters", headers=ACTOR)).json()["dead_letters"]
        discarded = await client.post(
            f"/bus/dead-letters/{second['id']}/discard", json={"reason": "test record"}, headers=ACTOR
        )
        assert discarded.status_code == 200, discarded.text
        assert (await client.get(f"/bus/dead-letters/{second['id']}", headers=READER)).status_code == 404
        missing = await client.post("/bus/dead-letters/999999/replay", json={"reason": "x"}, headers=ACTOR)
        assert missing.status_code == 404
        await consumer.close()


@pytest.mark.postgres
async def test_cluster_hub_with_nats_down_is_up_but_not_ready(tmp_path, closed_port, store):
    bus = JetStreamBusConfig(servers=(f"nats://127.0.0.1:{closed_port}",), connect_timeout=1.0)
    app = create_app(cluster_config(tmp_path, bus, store))
    started = time.monotonic()
    async with app.router.lifespan_context(app), client_for(app) as client:
        assert time.monotonic() - started < 5
        assert (await client.get("/health")).status_code == 200
        asked = time.monotonic()
        ready = await client.get("/ready")
        assert time.monotonic() - asked < 1
        assert ready.status_code == 503
        bus_report = next(c for c in ready.json()["components"] if c["name"] == "bus")
        assert bus_report["status"] == "unavailable"
        assert f"cannot connect to NATS at nats://127.0.0.1:{closed_port}" in bus_report["detail"]
        assert (await client.get("/bus/stats", headers=ACTOR)).status_code == 503
