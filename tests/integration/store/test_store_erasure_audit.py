"""An erasure's audit entry is promised in the erasure's own transaction: never lost, never doubled.

Wired as the hub wires it (``StoreAudit`` on a store opened at the hub's ``store_url``), on SQLite
and on PostgreSQL; and a whole hub SIGKILLed between the erasure's commit and its entry.
"""

from pathlib import Path

import pytest
from _store_helpers import event, pending_intents, person, run_until_killed
from store_crash_child import crash_config, until_the_store_runs

from polestar.api import create_app
from polestar.api.store_audit import StoreAudit
from polestar.audit import AuditQuery, Operation, SubjectRef
from polestar.store import open_store

CHILD = Path(__file__).with_name("erasure_crash_child.py")
PNC = SubjectRef(type="PNC", value="2012/0052494Q")


async def _open(config, promises):
    store = open_store(
        config.store_url,
        apply_intent=promises.applied,
        merge_intent=promises.merged,
        erasure_intent=promises.erased,
    )
    await store.start()
    return store


@pytest.fixture
async def store(hub_config, audit):
    store = await _open(hub_config, StoreAudit(audit))
    yield store
    await store.close()


def _okafor():
    return event(
        person("p-7", family="Okafor", identifiers=[{"type": "PNC", "value": PNC.value}]), id="evt-1"
    )


async def _erasures(audit_log):
    return await audit_log.find(AuditQuery(operation=Operation.ERASURE))


async def test_an_erasure_is_logged_with_ids_only_and_the_subject_reads_as_erased(store, audit):
    await store.apply(_okafor())
    summary = await store.erase_subject("p-7", actor="user:dpo1", reason="s47 request 2026/17 (Okafor)")
    (erasure,) = await _erasures(audit.log)
    assert erasure.actor.person == "user:dpo1"
    assert erasure.at == summary.erased_at
    assert erasure.record_ids == ["p-7"]
    assert "Okafor" not in erasure.model_dump_json()
    assert pending_intents(store) == []
    # The subject's keys went with the entry: the collection entry no longer says who it was about.
    (collected,) = await audit.log.find(AuditQuery(operation=Operation.COLLECTION))
    polestar_ref = next(s for s in collected.subjects if s.type == "POLESTAR")
    assert polestar_ref.erased
    assert await audit.log.find(AuditQuery(subject=SubjectRef(type="POLESTAR", value="p-7"))) == []
    await audit.log.drain_intents()
    assert len(await _erasures(audit.log)) == 1
    assert (await audit.log.verify()).ok


async def test_an_erasure_that_rolls_back_leaves_no_entry_and_the_data_in_place(hub_config, audit):
    promises = StoreAudit(audit)

    def promise_then_fail(conn, summary):
        promises.erased(conn, summary)
        raise RuntimeError("the erasure's transaction failed after the intent was written")

    store = await _open(hub_config, promises)
    store.erasure_intent = promise_then_fail
    try:
        await store.apply(_okafor())
        with pytest.raises(RuntimeError, match="after the intent"):
            await store.erase_subject("p-7", actor="user:dpo1", reason="erasure")
        assert await store.get("p-7") is not None
        assert pending_intents(store) == []
        assert await _erasures(audit.log) == []
    finally:
        await store.close()


async def test_an_erasure_whose_entry_fails_after_the_commit_is_logged_by_the_next_drain(store, audit):
    log = audit.log
    await store.apply(_okafor())
    real_drain = log.drain_intents

    async def log_unreachable(*, min_age=0.0):
        raise OSError("the audit log's disk is away")

    log.drain_intents = log_unreachable
    try:
        summary = await store.erase_subject("p-7", actor="user:dpo1", reason="erasure")
    finally:
        log.drain_intents = real_drain
    assert await store.get("p-7") is None
    assert pending_intents(store) == [f"store:erase:p-7:{summary.erased_at.isoformat()}"]
    assert await _erasures(log) == []
    assert (await log.drain_intents()).appended == 1
    assert [e.record_ids for e in await _erasures(log)] == [["p-7"]]
    assert await log.find(AuditQuery(subject=PNC)) != []  # PNC was a subject of its own: kept
    assert await log.find(AuditQuery(subject=SubjectRef(type="POLESTAR", value="p-7"))) == []
    assert pending_intents(store) == []


async def test_what_is_promised_after_an_erasure_is_written_under_a_new_key(store, audit):
    await store.apply(_okafor())
    await store.erase_subject("p-7", actor="user:dpo1", reason="erasure")
    await store.apply(event(person("p-7", family="Okafor"), id="evt-2"))  # collected again, lawfully
    found = await audit.log.find(AuditQuery(subject=SubjectRef(type="POLESTAR", value="p-7")))
    assert [e.operation for e in found] == [Operation.COLLECTION]
    assert "evt-2" in found[0].record_ids[1]


# --- a hub killed between the erasure's commit and its entry -------------------------------------


@pytest.mark.slow
async def test_a_hub_killed_after_an_erasure_commits_logs_it_once_when_it_starts_again(crash_site):
    await run_until_killed(CHILD, crash_site)

    config = crash_config(Path(crash_site[0]), *(crash_site[1:] or [None, None, None]))
    app = create_app(config)
    async with app.router.lifespan_context(app):
        hub = app.state.hub
        # The audit log opens first, and its start appended the erasure the dead hub promised.
        (erasure,) = await _erasures(hub.audit.log)
        assert erasure.actor.person == "user:dpo1"
        assert erasure.record_ids == ["p-crash"]
        (collected,) = await hub.audit.log.find(AuditQuery(operation=Operation.COLLECTION))
        assert next(s for s in collected.subjects if s.type == "POLESTAR").erased
        await until_the_store_runs(hub)
        assert pending_intents(hub.store.store) == []
        assert await hub.store.store.get("p-crash") is None
        await hub.audit.log.drain_intents()
        assert len(await _erasures(hub.audit.log)) == 1
        assert (await hub.audit.log.verify()).ok
