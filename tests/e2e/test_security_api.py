"""Security through the API: client credentials, roles, markings, audited decisions and hardening."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from polestar.api import create_app
from polestar.audit import AuditQuery, Operation, Outcome
from polestar.bus.config import SqliteBusConfig
from polestar.bus.contract import BackoffPolicy, ConsumerSpec
from polestar.config import HubConfig
from polestar.model.envelope import Envelope
from polestar.security import hash_secret
from polestar.security.testing import auth_headers

GROUP = "cad-to-vehicle"
PURPOSE = {"X-Polestar-Purpose": "finding why a delivery failed"}


def _config(tmp_path: Path, **security) -> HubConfig:
    return HubConfig(data_dir=tmp_path, bus=SqliteBusConfig(poll_interval=0.02), security=security or {})


def _client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://hub")


async def _dead_letter(engine, classification: str = "OFFICIAL") -> str:  # type: ignore[no-untyped-def]
    consumer = await engine.subscribe(
        ConsumerSpec(group=GROUP, backoff=BackoffPolicy(initial=0.05, jitter=0))
    )
    event = Envelope(
        source="/sims/cad", type="incident.unit.assigned", subject="INC-1", classification=classification
    )
    await engine.publish(event)
    (delivery,) = await consumer.fetch(1, timeout=5)
    await delivery.reject("unit 4B is not on shift")
    await consumer.close()
    return str((await engine.dead_letters(GROUP))[-1].id)


async def test_a_system_gets_a_token_with_its_client_credentials_and_uses_it(tmp_path) -> None:
    clients = [{"id": "opsbridge", "secret_hash": hash_secret("bridge-secret"), "roles": ["operator"]}]
    app = create_app(_config(tmp_path, clients=clients))
    form = {"content-type": "application/x-www-form-urlencoded"}
    async with app.router.lifespan_context(app), _client(app) as client:
        answer = await client.post(
            "/oauth/token",
            content="grant_type=client_credentials&client_id=opsbridge&client_secret=bridge-secret",
            headers=form,
        )
        assert answer.status_code == 200, answer.text
        issued = answer.json()
        assert issued["token_type"] == "Bearer"
        assert issued["expires_in"] == 900
        bearer = {"Authorization": f"Bearer {issued['access_token']}"}
        assert (await client.get("/bus/stats", headers=bearer)).status_code == 200

        basic = await client.post(
            "/oauth/token",
            content="grant_type=client_credentials",
            headers=form,
            auth=("opsbridge", "bridge-secret"),
        )
        assert basic.status_code == 200
        wrong = await client.post(
            "/oauth/token",
            content="grant_type=client_credentials&client_id=opsbridge&client_secret=guess",
            headers=form,
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
        as_json = await client.post("/oauth/token", json={"grant_type": "client_credentials"})
        assert as_json.status_code == 400
        assert as_json.json()["error"] == "invalid_request"
        other_grant = await client.post("/oauth/token", content="grant_type=password", headers=form)
        assert other_grant.json()["error"] == "unsupported_grant_type"


async def test_every_decision_is_audited_with_the_policy_that_made_it(tmp_path) -> None:
    config = _config(tmp_path)
    app = create_app(config)
    async with app.router.lifespan_context(app), _client(app) as client:
        officer = auth_headers(config, subject="user:pc1234", roles=["officer"])
        refused = await client.get("/bus/stats", headers=officer)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        operator = auth_headers(config, subject="user:op17", roles=["operator"])
        assert (await client.get("/bus/stats", headers=operator)).status_code == 200
        log = app.state.hub.audit.log
        decisions = await log.find(AuditQuery(operation=Operation.ACCESS_DECISION))
    by_actor = {d.actor.person: d for d in decisions}
    denied, allowed = by_actor["user:pc1234"], by_actor["user:op17"]
    assert denied.outcome is Outcome.REFUSED
    assert denied.details["policies"] == ["default-deny"]
    assert denied.details["action"] == "bus.read"
    assert allowed.outcome is Outcome.SUCCEEDED
    assert allowed.details["policies"] == ["operators-run-the-bus-and-routes"]


async def test_a_dead_letter_marked_above_the_callers_clearance_is_not_found(tmp_path) -> None:
    config = _config(tmp_path)
    app = create_app(config)
    async with app.router.lifespan_context(app), _client(app) as client:
        dead_id = await _dead_letter(app.state.hub.bus.engine, classification="SECRET [UK EYES ONLY]")
        official = auth_headers(
            config, roles=["operator"], clearance="OFFICIAL-SENSITIVE", purpose=PURPOSE["X-Polestar-Purpose"]
        )
        assert (await client.get(f"/bus/dead-letters/{dead_id}", headers=official)).status_code == 404
        uncaveated = auth_headers(config, roles=["operator"], clearance="SECRET", purpose="checking")
        assert (await client.get(f"/bus/dead-letters/{dead_id}", headers=uncaveated)).status_code == 404
        cleared = auth_headers(
            config, roles=["operator"], clearance="SECRET [UK EYES ONLY]", purpose="checking"
        )
        shown = await client.get(f"/bus/dead-letters/{dead_id}", headers=cleared)
        assert shown.status_code == 200
        assert shown.json()["envelope"]["subject"] == "INC-1"
        no_purpose = auth_headers(config, roles=["operator"], clearance="SECRET [UK EYES ONLY]")
        assert (await client.get(f"/bus/dead-letters/{dead_id}", headers=no_purpose)).status_code == 400


async def test_a_client_over_its_rate_is_told_to_wait(tmp_path) -> None:
    config = _config(tmp_path, rate_limit={"requests_per_second": 0.01, "burst": 3})
    app = create_app(config)
    async with app.router.lifespan_context(app), _client(app) as client:
        headers = auth_headers(config, roles=["operator"])
        answers = [await client.get("/bus/stats", headers=headers) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1
        other = auth_headers(config, subject="user:someone-else", roles=["operator"])
        assert (await client.get("/bus/stats", headers=other)).status_code == 200


async def test_deeply_nested_json_is_refused_before_it_is_parsed(tmp_path) -> None:
    config = _config(tmp_path, max_json_depth=8)
    app = create_app(config)
    async with app.router.lifespan_context(app), _client(app) as client:
        nested = "[" * 50 + "]" * 50
        answer = await client.post(
            "/bus/dead-letters/1/replay",
            content=f'{{"reason": {nested}}}',
            headers={**auth_headers(config), "content-type": "application/json"},
        )
        assert answer.status_code == 400
        assert "nests 51 levels deep; at most 8" in answer.json()["detail"]
        tricky = '{"reason": "[[[[[[[[[[[[[[[[[[[[ in a string is fine"}'
        fine = await client.post(
            "/bus/dead-letters/999/replay",
            content=tricky,
            headers={**auth_headers(config), "content-type": "application/json"},
        )
        assert fine.status_code == 404


async def test_with_authentication_off_callers_act_as_the_anonymous_operator(tmp_path) -> None:
    app = create_app(_config(tmp_path, authentication="off"))
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (await client.get("/bus/stats")).status_code == 200


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Token x.y.z", "Bearer a b"])
async def test_a_malformed_authorization_header_is_refused(tmp_path, header) -> None:
    app = create_app(_config(tmp_path))
    async with _client(app) as client:
        answer = await client.get("/bus/stats", headers={"Authorization": header})
    assert answer.status_code == 401


async def test_routes_admin_and_ingest_are_authorised_by_role(tmp_path) -> None:
    folder = tmp_path / "integration"
    for part in ("connectors", "mappings", "routes"):
        (folder / part).mkdir(parents=True)
    config = HubConfig(data_dir=tmp_path / "data", integration_dir=folder)
    app = create_app(config)
    async with app.router.lifespan_context(app), _client(app) as client:
        officer = auth_headers(config, roles=["officer"])
        operator = auth_headers(config, roles=["operator"])
        auditor = auth_headers(config, roles=["auditor"])
        assert (await client.get("/routes", headers=officer)).status_code == 403
        assert (await client.get("/routes", headers=operator)).status_code == 200
        assert (await client.post("/routes/reload", headers=auditor)).status_code == 403
        assert (await client.post("/routes/reload", headers=operator)).status_code == 200
        # An operator is not a system: it may not push data in.
        assert (await client.post("/ingest/cad", headers=operator, json={})).status_code == 403
        refusals = await app.state.hub.audit.log.find(AuditQuery(operation=Operation.ACCESS_DECISION))
    assert sum(1 for r in refusals if r.outcome is Outcome.REFUSED) == 3


async def test_a_refused_token_is_audited_as_a_refused_authentication(tmp_path) -> None:
    app = create_app(_config(tmp_path))
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (
            await client.get("/bus/stats", headers={"Authorization": "Bearer nonsense"})
        ).status_code == 401
        (refused,) = await app.state.hub.audit.log.find(AuditQuery(operation=Operation.ACCESS_DECISION))
    assert refused.outcome is Outcome.REFUSED
    assert refused.details["policies"] == ["authentication"]
    assert "not a well-formed JWT" in refused.details["reason"]
