"""The bus through the API: readiness, and the operator endpoints against a real embedded bus."""

import asyncio
import time

import httpx
import pytest

from polestar.api import PROBLEM_MEDIA_TYPE, create_app
from polestar.api.bus_component import BusComponent
from polestar.api.health import ComponentStatus
from polestar.bus.admin import ActionOutcome, OperatorActionKind
from polestar.bus.config import SqliteBusConfig
from polestar.bus.contract import BackoffPolicy, ConsumerSpec
from polestar.bus.factory import open_engine
from polestar.bus.sqlite import SqliteEngine
from polestar.config import HubConfig
from polestar.errors import BusUnavailable
from polestar.model.envelope import Envelope
from polestar.security.testing import auth_headers

GROUP = "cad-to-vehicle"
ACTOR = {"X-Polestar-Actor": "user:pc1234"}
READER = {**ACTOR, "X-Polestar-Purpose": "finding why a delivery failed"}
"""Showing a dead letter reads personal data: the audit policy wants a purpose."""


def client_for(app):
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = auth_headers(app.state.hub.config, subject="user:pc1234")
    return httpx.AsyncClient(transport=transport, base_url="http://hub.test", headers=headers)


class UnreachableEngine:
    """An engine whose broker never answers, as with NATS down."""

    name = "jetstream"

    def __init__(self, *_):
        pass

    async def start(self):
        raise BusUnavailable("cannot connect to NATS at nats://nats-1:4222: connection refused")

    async def close(self):
        pass


@pytest.fixture
def actions():
    return []


@pytest.fixture
async def hub(tmp_path, actions):
    async def record(action):
        actions.append(action)

    config = HubConfig(data_dir=tmp_path, bus=SqliteBusConfig(poll_interval=0.02))
    app = create_app(config, on_operator_action=record)
    async with app.router.lifespan_context(app), client_for(app) as client:
        client.engine = app.state.hub.bus.engine
        yield client


async def dead_letter(engine, reason="unit 4B is not on shift", n=1):
    consumer = await engine.subscribe(
        ConsumerSpec(group=GROUP, backoff=BackoffPolicy(initial=0.05, jitter=0))
    )
    await engine.publish(Envelope(source="/sims/cad", type="incident.unit.assigned", subject=f"INC-{n}"))
    (delivery,) = await consumer.fetch(1, timeout=5)
    await delivery.reject(reason)
    await consumer.close()
    return (await engine.dead_letters(GROUP))[-1].id


async def test_ready_reports_the_bus(hub):
    response = await hub.get("/ready")
    assert response.status_code == 200
    assert {"name": "bus", "status": "ok"} in response.json()["components"]


async def test_stats_show_the_group_backlog(hub, actions):
    await dead_letter(hub.engine)
    response = await hub.get("/bus/stats", headers=ACTOR)
    assert response.status_code == 200
    stats = response.json()
    assert stats["engine"] == "sqlite"
    assert stats["dead_letters"] == 1
    # The hub's own store consumer is a group too, once it has subscribed: not this test's.
    groups = [(g["group"], g["dead_letters"]) for g in stats["groups"] if g["group"] != "store-writer"]
    assert groups == [(GROUP, 1)]
    assert [(a.action, a.actor) for a in actions] == [(OperatorActionKind.STATS_VIEWED, "user:pc1234")]


async def test_every_bus_endpoint_needs_a_bearer_token(hub):
    response = await hub.get("/bus/stats", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "bearer token" in response.json()["detail"]


async def test_list_and_show_a_dead_letter(hub, actions):
    dead_id = await dead_letter(hub.engine)
    listing = (await hub.get("/bus/dead-letters", params={"group": GROUP}, headers=ACTOR)).json()
    assert listing["group"] == GROUP
    (summary,) = listing["dead_letters"]
    assert summary["id"] == dead_id
    assert summary["reason"].endswith("unit 4B is not on shift")
    assert "envelope" not in summary

    response = await hub.get(f"/bus/dead-letters/{dead_id}", headers=READER)
    assert response.status_code == 200
    detail = response.json()
    assert detail["envelope"]["subject"] == "INC-1"
    assert [a["reason"] for a in detail["attempts"]] == ["unit 4B is not on shift"]
    assert [a.action for a in actions] == [
        OperatorActionKind.DEAD_LETTERS_LISTED,
        OperatorActionKind.DEAD_LETTER_VIEWED,
    ]
    assert actions[1].event_id == detail["envelope"]["id"]


async def test_replay_redelivers_to_the_group_and_records_the_reason(hub, actions):
    dead_id = await dead_letter(hub.engine)
    response = await hub.post(
        f"/bus/dead-letters/{dead_id}/replay", json={"reason": "unit 4B back on shift"}, headers=ACTOR
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "replayed"
    consumer = await hub.engine.subscribe(ConsumerSpec(group=GROUP))
    (again,) = await consumer.fetch(1, timeout=5)
    assert again.message.envelope.subject == "INC-1"
    assert again.message.sequence == response.json()["sequence"]
    await again.ack()
    await consumer.close()
    (replayed,) = actions
    assert replayed.action is OperatorActionKind.DEAD_LETTER_REPLAYED
    assert (replayed.actor, replayed.reason, replayed.outcome) == (
        "user:pc1234",
        "unit 4B back on shift",
        ActionOutcome.SUCCEEDED,
    )


async def test_discard_deletes_it_and_records_the_reason(hub, actions):
    dead_id = await dead_letter(hub.engine)
    response = await hub.post(
        f"/bus/dead-letters/{dead_id}/discard", json={"reason": "exercise data"}, headers=ACTOR
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "discarded"
    assert response.json()["group"] == GROUP
    assert (await hub.get(f"/bus/dead-letters/{dead_id}", headers=READER)).status_code == 404
    assert actions[0].action is OperatorActionKind.DEAD_LETTER_DISCARDED
    assert actions[0].reason == "exercise data"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", ""), ("POST", "/replay"), ("POST", "/discard")],
)
async def test_unknown_dead_letter_is_a_404_problem(hub, actions, method, path):
    response = await hub.request(
        method,
        f"/bus/dead-letters/nope{path}",
        json={"reason": "r"} if method == "POST" else None,
        headers=READER,
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["detail"] == "no dead letter 'nope'"
    assert actions[0].outcome is ActionOutcome.NOT_FOUND


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
@pytest.mark.parametrize("verb", ["replay", "discard"])
async def test_replay_and_discard_need_a_reason(hub, body, verb):
    dead_id = await dead_letter(hub.engine)
    response = await hub.post(f"/bus/dead-letters/{dead_id}/{verb}", json=body, headers=ACTOR)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert (await hub.get(f"/bus/dead-letters/{dead_id}", headers=READER)).status_code == 200


async def test_openapi_documents_the_bus_endpoints(hub):
    document = (await hub.get("/openapi.json")).json()
    assert {
        "/bus/stats",
        "/bus/dead-letters",
        "/bus/dead-letters/{dead_letter_id}",
        "/bus/dead-letters/{dead_letter_id}/replay",
        "/bus/dead-letters/{dead_letter_id}/discard",
    } <= set(document["paths"])
    assert {"BusStatsView", "DeadLetterDetail", "OperatorReason"} <= set(document["components"]["schemas"])
    show = document["paths"]["/bus/dead-letters/{dead_letter_id}"]["get"]
    assert "404" in show["responses"]


async def test_hub_starts_and_answers_health_when_the_bus_cannot_start(tmp_path):
    app = create_app(HubConfig(data_dir=tmp_path), bus_factory=UnreachableEngine)
    async with app.router.lifespan_context(app), client_for(app) as client:
        assert (await client.get("/health")).status_code == 200
        ready = await client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        bus = next(c for c in ready.json()["components"] if c["name"] == "bus")
        assert bus["status"] == "unavailable"
        assert "cannot connect to NATS at nats://nats-1:4222" in bus["detail"]
        assert "retrying" in bus["detail"]

        stats = await client.get("/bus/stats", headers=ACTOR)
        assert stats.status_code == 503
        assert stats.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert "the bus is unavailable: cannot connect to NATS" in stats.json()["detail"]


async def test_the_bus_is_retried_in_the_background_until_it_starts(tmp_path):
    attempts = []

    def flaky(config, data_dir):
        attempts.append(time.monotonic())
        return UnreachableEngine() if len(attempts) < 3 else open_engine(config, data_dir)

    bus = BusComponent(SqliteBusConfig(), tmp_path, factory=flaky, retry_initial=0.01, retry_max=0.02)
    await bus.start(wait=5)
    assert bus.status is ComponentStatus.UNAVAILABLE
    try:
        for _ in range(200):
            if bus.status is ComponentStatus.OK:
                break
            await asyncio.sleep(0.01)
        assert bus.status is ComponentStatus.OK
        assert await bus.check() == (ComponentStatus.OK, None)
        assert bus.admin is not None
        assert len(attempts) == 3
    finally:
        await bus.close()


async def test_readiness_does_not_hang_on_a_bus_that_stops_answering(tmp_path):
    class Stuck(SqliteEngine):
        async def dead_letters(self, group=None, limit=100):
            await asyncio.sleep(3600)

    bus = BusComponent(
        SqliteBusConfig(), tmp_path, factory=lambda config, data_dir: Stuck(config, data_dir=data_dir)
    )
    await bus.start()
    try:
        started = time.monotonic()
        status, detail = await bus.check(timeout=0.2)
        assert time.monotonic() - started < 2
        assert status is ComponentStatus.UNAVAILABLE
        assert detail == "the sqlite bus did not answer within 0.2 s"
    finally:
        await bus.close()


async def test_with_the_audit_log_off_operator_actions_are_logged(tmp_path, caplog):
    app = create_app(HubConfig(data_dir=tmp_path, audit={"enabled": False}))
    async with app.router.lifespan_context(app), client_for(app) as client:
        dead_id = await dead_letter(app.state.hub.bus.engine)
        with caplog.at_level("INFO", logger="polestar.operator"):
            response = await client.post(
                f"/bus/dead-letters/{dead_id}/discard", json={"reason": "exercise data"}, headers=ACTOR
            )
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == "polestar.operator"]
    assert "event='operator_action'" in record.getMessage()
    assert "action='dead_letter.discarded'" in record.getMessage()
    assert "reason='exercise data'" in record.getMessage()
