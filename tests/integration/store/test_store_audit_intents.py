"""The store's audit entries are promised in the store's own transaction: none is lost, none is doubled.

Wired as the hub wires it (``StoreAudit`` on a store opened at the hub's ``store_url``, which the
audit log shares), on SQLite and on PostgreSQL; and a whole hub SIGKILLed between the store's
commit and the append, started again.
"""

from pathlib import Path

import pytest
from _store_helpers import event, pending_intents, person, run_until_killed
from store_crash_child import arrest, crash_config, until_the_store_runs

from polestar.api import create_app
from polestar.api.audit_component import AuditNotRunning
from polestar.api.store_audit import StoreAudit
from polestar.audit import AuditQuery, Operation
from polestar.store import Outcome, open_store

CHILD = Path(__file__).with_name("store_crash_child.py")


async def _open(config, promises):
    store = open_store(config.store_url, apply_intent=promises.applied, merge_intent=promises.merged)
    await store.start()
    return store


@pytest.fixture
async def store(hub_config, audit):
    store = await _open(hub_config, StoreAudit(audit))
    yield store
    await store.close()


async def _store_entries(audit_log):
    return await audit_log.find(AuditQuery(system="polestar-store"))


async def test_a_store_write_is_logged_at_once_and_a_redelivered_event_adds_no_entry(store, audit):
    first = event(person("p-7", family="Okafor"), id="evt-1")
    second = event(person("p-7", version=2, family="Okafor-Smith"), id="evt-2")
    assert (await store.apply(first)).outcome is Outcome.CREATED
    assert (await store.apply(second)).outcome is Outcome.UPDATED
    assert (await store.apply(second)).outcome is Outcome.DUPLICATE  # the bus redelivers it
    entries = await _store_entries(audit.log)
    assert [e.operation for e in entries] == [Operation.COLLECTION, Operation.ALTERATION]
    assert entries[1].record_ids == ["p-7", "event:evt-2"]
    assert entries[1].details["changed_fields"] == ["name"]
    assert pending_intents(store) == []  # appended at once, not left for the drain
    await audit.log.drain_intents()
    assert len(await _store_entries(audit.log)) == 2


async def test_a_store_write_that_rolls_back_leaves_no_intent_behind(hub_config, audit):
    promises = StoreAudit(audit)

    def promise_then_fail(conn, envelope, result):
        promises.applied(conn, envelope, result)
        raise RuntimeError("the store's transaction failed after the intent was written")

    store = await _open(hub_config, promises)
    store.apply_intent = promise_then_fail
    try:
        with pytest.raises(RuntimeError, match="after the intent"):
            await store.apply(event(person("p-7"), id="evt-1"))
        # Really one transaction (on SQLite too): the record and the intent went together.
        assert await store.get("p-7") is None
        assert pending_intents(store) == []
        assert (await audit.log.drain_intents()).appended == 0
        assert await _store_entries(audit.log) == []
    finally:
        await store.close()


async def test_with_the_audit_log_down_a_store_write_is_refused_not_left_unlogged(hub_config, audit, store):
    await audit.close()  # enabled, but not running
    with pytest.raises(AuditNotRunning):
        await store.apply(event(person("p-7"), id="evt-1"))
    assert await store.get("p-7") is None
    assert pending_intents(store) == []


async def test_an_append_that_fails_after_the_commit_is_left_to_the_drain_and_logged_once(store, audit):
    log = audit.log
    real_append = log.append

    async def log_unreachable(entry, *, key=None):
        raise OSError("the audit log's disk is away")

    log.append = log_unreachable
    try:
        assert (await store.apply(event(person("p-7"), id="evt-1"))).outcome is Outcome.CREATED
    finally:
        log.append = real_append
    assert pending_intents(store) == ["store:evt-1:p-7:collection"]
    assert (await log.drain_intents()).appended == 1
    (entry,) = await _store_entries(log)
    assert entry.operation is Operation.COLLECTION
    assert pending_intents(store) == []


async def test_merge_and_unmerge_are_combinations_logged_once_each(store, audit):
    await store.apply(event(person("p-7"), id="evt-1"))
    await store.apply(event(person("p-8", system="pnc"), id="evt-2"))
    merge = await store.merge("p-7", "p-8", actor="user:dc42", reason="same PNC id")
    await store.unmerge(merge.id, actor="user:ds7", reason="different dates of birth")
    combined = await audit.log.find(AuditQuery(operation=Operation.COMBINATION))
    assert [(e.actor.person, e.details["action"]) for e in combined] == [
        ("user:dc42", "merge"),
        ("user:ds7", "unmerge"),
    ]
    assert all(f"merge:{merge.id}" in e.record_ids for e in combined)
    assert pending_intents(store) == []


# --- a hub killed between the store's commit and the append ---------------------------------------


@pytest.mark.slow
async def test_a_hub_killed_after_the_store_commits_logs_the_entry_once_when_it_starts_again(crash_site):
    await run_until_killed(CHILD, crash_site)

    config = crash_config(Path(crash_site[0]), *(crash_site[1:] or [None, None, None]))
    app = create_app(config)
    async with app.router.lifespan_context(app):
        hub = app.state.hub
        # The audit log opens first, and its start appended what the dead hub promised.
        (collected,) = await _store_entries(hub.audit.log)
        assert collected.operation is Operation.COLLECTION
        assert collected.record_ids == ["p-crash", "event:evt-arrest-1"]
        assert collected.correlation_id == "custody-17"
        await until_the_store_runs(hub)
        assert pending_intents(hub.store.store) == []
        assert (await hub.store.store.get("p-crash")) is not None
        # The event was never acknowledged: the bus hands it over again, and the store drops it.
        assert (await hub.store.writer.handle(arrest())).outcome is Outcome.DUPLICATE
        assert len(await _store_entries(hub.audit.log)) == 1
        assert (await hub.audit.log.verify()).ok
