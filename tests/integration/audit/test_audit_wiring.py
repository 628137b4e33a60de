"""The audit log wired into the hub: dead-letter reads and replays, store writes, merges and erasures."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from polestar.api import PROBLEM_MEDIA_TYPE, create_app
from polestar.api.audit_component import AuditComponent
from polestar.api.store_audit import StoreAudit
from polestar.audit import AuditQuery, Operation, Outcome, SubjectRef
from polestar.bus.config import SqliteBusConfig
from polestar.bus.contract import BackoffPolicy, ConsumerSpec
from polestar.bus.factory import open_engine
from polestar.config import HubConfig
from polestar.model import Person, to_envelope
from polestar.model.envelope import Envelope
from polestar.security.testing import auth_headers
from polestar.store import SqliteStore
from polestar.store.writer import StoreWriter

OPERATOR = {"X-Polestar-Actor": "user:op17"}
PNC = "2012/0052494Q"


def _client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    headers = auth_headers(app.state.hub.config, subject="user:op17")
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=headers)


async def _dead_letter(engine) -> str:  # type: ignore[no-untyped-def]
    consumer = await engine.subscribe(ConsumerSpec(group="to-footwear", backoff=BackoffPolicy(initial=0.05)))
    await engine.publish(
        Envelope(
            source="/connectors/custody-api",
            type="person.created",
            data={"id": "p-1", "identifiers": [{"type": "PNC", "value": PNC}]},
        ),
        subject="person.created",
    )
    (delivery,) = await consumer.fetch(1, timeout=5)
    await delivery.reject("the footwear database refused it")
    await consumer.close()
    return str((await engine.dead_letters("to-footwear"))[-1].id)


@pytest.fixture
async def hub(tmp_path: Path):  # type: ignore[no-untyped-def]
    app = create_app(HubConfig(data_dir=tmp_path, bus=SqliteBusConfig(poll_interval=0.02)))
    async with app.router.lifespan_context(app), _client(app) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


async def test_reading_a_dead_letter_without_a_purpose_is_refused_and_the_refusal_is_audited(hub) -> None:  # type: ignore[no-untyped-def]
    dead_id = await _dead_letter(hub.app.state.hub.bus.engine)
    answer = await hub.get(f"/bus/dead-letters/{dead_id}", headers=OPERATOR)
    assert answer.status_code == 400
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert "X-Polestar-Purpose" in answer.json()["detail"]
    log = hub.app.state.hub.audit.log
    (refused,) = await log.find(AuditQuery(operation=Operation.CONSULTATION))
    assert refused.outcome is Outcome.REFUSED
    assert refused.actor.person == "user:op17"
    assert refused.record_ids == [f"dead-letter:{dead_id}"]


async def test_reading_a_dead_letter_is_a_consultation_of_the_people_in_it_with_the_purpose(hub) -> None:  # type: ignore[no-untyped-def]
    dead_id = await _dead_letter(hub.app.state.hub.bus.engine)
    answer = await hub.get(
        f"/bus/dead-letters/{dead_id}", headers={**OPERATOR, "X-Polestar-Purpose": "why did delivery fail"}
    )
    assert answer.status_code == 200
    log = hub.app.state.hub.audit.log
    (consulted,) = await log.find(AuditQuery(subject=SubjectRef(type="PNC", value=PNC)))
    assert consulted.operation is Operation.CONSULTATION
    assert consulted.purpose == "why did delivery fail"
    assert consulted.query == f"dead letter {dead_id}"
    assert consulted.actor.person == "user:op17"
    viewed = await log.find(AuditQuery(operation=Operation.OPERATOR_ACTION))
    assert [v.details["action"] for v in viewed] == ["dead_letter.viewed"]


async def test_a_dead_letter_replay_is_an_operator_action_in_the_audit_log(hub) -> None:  # type: ignore[no-untyped-def]
    dead_id = await _dead_letter(hub.app.state.hub.bus.engine)
    answer = await hub.post(
        f"/bus/dead-letters/{dead_id}/replay", json={"reason": "footwear database is back"}, headers=OPERATOR
    )
    assert answer.status_code == 200
    (replayed,) = await hub.app.state.hub.audit.log.find(
        AuditQuery(actor="user:op17", operation=Operation.OPERATOR_ACTION)
    )
    assert replayed.operation is Operation.OPERATOR_ACTION
    assert replayed.purpose == "footwear database is back"
    assert replayed.details["action"] == "dead_letter.replayed"
    assert dead_id in replayed.record_ids


async def test_ready_names_the_audit_log(hub) -> None:  # type: ignore[no-untyped-def]
    report = (await hub.get("/ready")).json()
    assert {"name": "audit", "status": "ok"} in report["components"]


async def test_with_audit_disabled_nothing_is_opened_or_required(tmp_path: Path) -> None:
    app = create_app(HubConfig(data_dir=tmp_path, audit={"enabled": False}))
    async with app.router.lifespan_context(app), _client(app) as client:
        dead_id = await _dead_letter(app.state.hub.bus.engine)
        # The access policy still wants a purpose to read personal data; the audit log records nothing.
        reader = {**OPERATOR, "X-Polestar-Purpose": "why did delivery fail"}
        assert (await client.get(f"/bus/dead-letters/{dead_id}", headers=reader)).status_code == 200
    assert not (tmp_path / "audit").exists()


# --- the store ------------------------------------------------------------------------------------


@pytest.fixture
async def audit(tmp_path: Path):  # type: ignore[no-untyped-def]
    component = AuditComponent(HubConfig(data_dir=tmp_path))
    await component.start()
    yield component
    await component.close()


def audit_db(data_dir: Path) -> Path:
    """The store shares the audit log's database, as in the hub: its transactions carry the intents."""
    return Path(HubConfig(data_dir=data_dir).store_url.removeprefix("sqlite:///"))


def _person(version: int, family: str, **more) -> Envelope:  # type: ignore[no-untyped-def]
    person = Person(
        id="p-7",
        version=version,
        name={"given": "Daniel", "family": family},
        identifiers=[{"type": "PNC", "value": PNC}],
        provenance={
            "organisation": "01",
            "system": "custody",
            "observed_at": f"2026-11-23T21:4{version}:00Z",
            "recorded_at": f"2026-11-23T21:4{version}:00Z",
        },
        **more,
    )
    return to_envelope(person, type="person.updated", source="/connectors/custody-api")


async def test_store_writes_are_collection_then_alteration_naming_fields_never_values(
    tmp_path: Path, audit: AuditComponent
) -> None:
    store = SqliteStore(audit_db(tmp_path), apply_intent=StoreAudit(audit).applied)
    await store.start()
    writer = StoreWriter(open_engine(SqliteBusConfig(), tmp_path), store)
    await writer.handle(_person(1, "Okafor"))
    await writer.handle(_person(2, "Okafor-Smith"))
    await writer.handle(_person(2, "Okafor-Smith"))  # the same again: nothing new to record
    await store.close()
    assert audit.log is not None
    found = await audit.log.find(AuditQuery(subject=SubjectRef(type="PNC", value=PNC)))
    assert [r.operation for r in found] == [Operation.COLLECTION, Operation.ALTERATION]
    assert all("p-7" in r.record_ids for r in found)
    assert found[1].details is not None
    assert "name.family" in found[1].details["changed_fields"] or "name" in str(found[1].details)
    assert "Okafor-Smith" not in str(found[1].model_dump())


async def test_merge_and_unmerge_are_combinations_and_erasure_records_ids_without_content(
    tmp_path: Path, audit: AuditComponent
) -> None:
    store = SqliteStore(audit_db(tmp_path), on_erasure=audit.erased)
    store.merge_intent = StoreAudit(audit).merged
    await store.start()
    await store.apply(_person(1, "Okafor"))
    other = Person(
        id="p-8",
        version=1,
        name={"given": "Dan", "family": "Okafor"},
        provenance={"organisation": "01", "system": "pnc", "recorded_at": "2026-11-23T22:00:00Z"},
    )
    await store.apply(to_envelope(other, type="person.created", source="/connectors/pnc"))
    merge = await store.merge("p-7", "p-8", actor="user:dc42", reason="same PNC id")
    await store.unmerge(merge.id, actor="user:ds7", reason="different dates of birth")
    assert audit.log is not None
    combined = await audit.log.find(AuditQuery(operation=Operation.COMBINATION))
    assert [(r.actor.person, r.details and r.details["action"]) for r in combined] == [
        ("user:dc42", "merge"),
        ("user:ds7", "unmerge"),
    ]
    assert all(f"merge:{merge.id}" in r.record_ids for r in combined)
    await store.erase_subject("p-7", actor="user:dpo1", reason="unlawfully held")
    await store.close()
    (erasure,) = await audit.log.find(AuditQuery(operation=Operation.ERASURE))
    assert erasure.actor.person == "user:dpo1"
    assert "p-7" in erasure.record_ids
    assert "Okafor" not in erasure.model_dump_json()
    # The merge entries named p-7 and p-8: after the erasure p-7 reads as erased in them.
    assert all(
        any(s.erased for s in r.subjects)
        for r in await audit.log.find(AuditQuery(operation=Operation.COMBINATION))
    )
