"""Street checks through the device gateway against the real PNC simulator over SOAP."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from _device_hubs import CheckingHub, bearer, checking_hub, device_token

from polestar.audit import AuditQuery, Operation, Outcome, SubjectRef
from polestar.demo.force_config import FORCE_EXAMPLE_DIR
from polestar.devices.config import DeviceGatewayConfig, load_device_config
from polestar.security import issue_token
from polestar.sims.synthetic import World


def _example_gateway() -> DeviceGatewayConfig:
    gateway = load_device_config(FORCE_EXAMPLE_DIR / "integration")
    assert gateway is not None
    return gateway


GATEWAY = _example_gateway()
"""The example force's gateway, which the ``hub`` fixture runs: its check timeout and breaker."""

pytestmark = pytest.mark.slow


def _wanted(world: World) -> str:
    person = next(p for p in world.known_to_police if any(m.kind == "wanted" for m in p.markers))
    assert person.pnc_id is not None
    return person.pnc_id


async def test_a_wanted_person_is_flagged_and_the_check_is_audited_with_its_reason(
    hub: CheckingHub, world: World
) -> None:
    pnc_id = _wanted(world)
    answer = await hub.client.post(
        "/api/checks/person",
        json={"pncId": pnc_id, "reason": "2", "justification": "seen climbing a fence"},
    )
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["wanted"] is True
    assert found["people"][0]["pnc_id"] == pnc_id
    assert found["people"][0]["wanted"][0]["reason"]

    trail = await hub.audit().find(AuditQuery(subject=SubjectRef(type="PNC", value=pnc_id)))
    assert [r.operation for r in trail] == [Operation.CONSULTATION, Operation.DISCLOSURE]
    consulted, disclosed = trail
    assert consulted.actor.person == "user:PC4471"
    assert consulted.actor.device == "device:TAB-0042"
    assert consulted.purpose == "2: person check on the street - seen climbing a fence"
    assert disclosed.recipients[0] == "device:TAB-0042"
    assert disclosed.record_ids == consulted.record_ids == [f"pnc:{found['transaction']}"]


async def test_a_stolen_vehicle_is_flagged_with_its_keeper(hub: CheckingHub, world: World) -> None:
    vehicle = next(v for v in world.vehicles if v.stolen_since)
    assert vehicle.stolen_since is not None
    keeper = world.people_by_id[vehicle.keeper_id]
    answer = await hub.client.post("/api/checks/vehicle", json={"vrm": vehicle.vrm.lower(), "reason": "3"})
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["stolen"] is True
    assert found["vehicle"]["stolen_since"] == vehicle.stolen_since.isoformat()
    assert found["vehicle"]["keeper"]["surname"] == keeper.family.upper()
    assert found["vehicle"]["keeper"]["date_of_birth"] == keeper.date_of_birth.isoformat()


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"pncId": "2012/0052494Q"}, ["body", "reason"]),
        ({"pncId": "2012/0052494Q", "reason": "42"}, ["body", "reason"]),
        ({"surname": "OKAFOR", "reason": "2"}, ["body"]),
        ({"pncId": "not a pnc id", "reason": "2"}, ["body", "pncId"]),
        ({"pncId": "2012/0052494Q", "reason": "2", "colour": "red"}, ["body", "colour"]),
    ],
)
async def test_a_bad_person_check_is_refused_naming_the_field(
    hub: CheckingHub, body: dict[str, str], where: list[str]
) -> None:
    answer = await hub.client.post("/api/checks/person", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert where in [e["loc"] for e in answer.json()["errors"]]


async def test_a_check_from_no_known_device_is_refused(hub: CheckingHub) -> None:
    # A token bound to no device (an officer at a desk) must name the device the answer goes to.
    desk = issue_token(hub.app.state.hub.config, subject="user:PC4471", roles=["officer"])
    answer = await hub.client.post(
        "/api/checks/vehicle",
        json={"vrm": "AB12CDE", "reason": "3"},
        headers={"X-Device-Id": "", **bearer(desk)},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["header", "X-Device-Id"]


async def test_a_check_pnc_refuses_is_a_422_with_pncs_reason(hub: CheckingHub) -> None:
    # Well formed, but the check character is wrong: only PNC knows that.
    answer = await hub.client.post("/api/checks/person", json={"pncId": "2012/0052494A", "reason": "2"})
    assert answer.status_code == 422, answer.text
    assert "check character" in answer.json()["errors"][0]["msg"]


async def test_pnc_outage_fails_fast_with_pnc_unavailable_then_checks_succeed_again(
    hub: CheckingHub, world: World
) -> None:
    pnc_id = _wanted(world)
    body = {"pncId": pnc_id, "reason": "7"}
    await hub.outage(True)
    answers = []
    for _ in range(5):
        started = time.monotonic()
        answer = await hub.client.post("/api/checks/person", json=body)
        answers.append((answer, time.monotonic() - started))
    for answer, took in answers:
        assert answer.status_code == 503
        assert answer.json()["detail"].startswith("PNC unavailable")
        assert int(answer.headers["retry-after"]) >= 1
        assert took < GATEWAY.checks.timeout  # not waiting it out, however loaded the machine
    # After three failures the breaker is open: PNC is not even asked. (Not the last answer:
    # on a slow enough machine the breaker's open time passes and that one is a probe.)
    assert "circuit breaker open" in answers[GATEWAY.checks.breaker.failure_threshold][0].json()["detail"]
    failed = await hub.audit().find(AuditQuery(operation=Operation.CONSULTATION))
    assert {r.outcome for r in failed} == {Outcome.FAILED}

    await hub.outage(False)
    deadline = time.monotonic() + 10
    while True:
        answer = await hub.client.post("/api/checks/person", json=body)
        if answer.status_code == 200:
            break
        assert answer.status_code == 503
        assert time.monotonic() < deadline, "checks did not recover after PNC came back"
        await asyncio.sleep(0.2)
    assert answer.json()["wanted"] is True


async def test_a_pnc_that_does_not_answer_in_time_is_unavailable_not_a_hang(
    tmp_path: Path, world: World
) -> None:
    gateway = (
        "devices:\n  checks:\n    person_connector: pnc\n    vehicle_connector: pnc\n"
        "    timeout: 0.3\n    breaker: {failure_threshold: 2, window: 30, open_seconds: 30}\n"
    )
    async with checking_hub(tmp_path, world, gateway=gateway) as slow:
        answer = await slow.pnc.post(f"{slow.pnc_url}/_sim/latency", json={"fixed_ms": 3000})
        answer.raise_for_status()
        started = time.monotonic()
        answer = await slow.client.post("/api/checks/vehicle", json={"vrm": "AB12CDE", "reason": "3"})
        assert answer.status_code == 503
        assert "no answer within 0.3 s" in answer.json()["detail"]
        assert time.monotonic() - started < 3.0  # gave up, not waiting for PNC's 3 s answer


async def test_the_officer_is_the_tokens_and_a_check_as_another_officer_is_refused(hub: CheckingHub) -> None:
    answer = await hub.client.post(
        "/api/checks/vehicle", json={"vrm": "AB12CDE", "reason": "3", "officer": "PC9999"}
    )
    assert answer.status_code == 403
    assert "cannot ask as officer 'PC9999'" in answer.json()["detail"]
    other_device = await hub.client.post(
        "/api/checks/vehicle", json={"vrm": "AB12CDE", "reason": "3"}, headers={"X-Device-Id": "TAB-9999"}
    )
    assert other_device.status_code == 403
    # Without any X-Officer-Id or body officer the token alone says who asks.
    config = hub.app.state.hub.config
    alone = await hub.client.post(
        "/api/checks/vehicle",
        json={"vrm": "AB12CDE", "reason": "3"},
        headers={**bearer(device_token(config, "PC5000", "TAB-0050")), "X-Officer-Id": "", "X-Device-Id": ""},
    )
    assert alone.status_code == 200, alone.text
    decisions = await hub.audit().find(AuditQuery(operation=Operation.ACCESS_DECISION, actor="user:PC4471"))
    refused = [r for r in decisions if r.outcome is Outcome.REFUSED]
    assert {tuple((r.details or {})["policies"]) for r in refused} == {("identity-must-match-the-token",)}
    checked = await hub.audit().find(AuditQuery(operation=Operation.CONSULTATION, actor="user:PC5000"))
    assert checked[0].actor.device == "device:TAB-0050"


async def test_a_token_without_the_officer_role_cannot_check(hub: CheckingHub) -> None:
    config = hub.app.state.hub.config
    auditor = bearer(device_token(config, "PC4471", "TAB-0042", roles=("auditor",)))
    answer = await hub.client.post(
        "/api/checks/vehicle", json={"vrm": "AB12CDE", "reason": "3"}, headers=auditor
    )
    assert answer.status_code == 403
    assert "device.check is not allowed" in answer.json()["detail"]


async def test_a_check_no_agreement_allows_is_not_asked_of_pnc(hub: CheckingHub, world: World) -> None:
    agreements = Path(hub.app.state.hub.config.integration_dir) / "agreements"
    (agreements / "pnc.yaml").unlink()
    answer = await hub.client.post("/api/checks/person", json={"pncId": _wanted(world), "reason": "2"})
    assert answer.status_code == 403
    assert "PNC was not asked" in answer.json()["detail"]
    assert "no data-sharing agreement covers recipient 'pnc'" in answer.json()["detail"]
    enquiries = (await hub.pnc.get(f"{hub.pnc_url}/_sim/enquiries")).json()["enquiries"]
    assert enquiries == []
    [failed] = await hub.audit().find(AuditQuery(operation=Operation.CONSULTATION))
    assert failed.outcome is Outcome.FAILED
