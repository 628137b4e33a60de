"""The durability seam: an audit entry promised in the caller's own transaction is logged exactly once,
even when the process is killed between its commit and the append."""

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _audit_helpers import consultation
from intent_crash_child import case_notes, the_entry
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from polestar.audit import AuditKeys, AuditLog, AuditQuery, PostgresAuditStore, SqliteAuditStore
from polestar.audit.intents import create_intent_tables, record_intent

CHILD = Path(__file__).with_name("intent_crash_child.py")


def _schema(store):
    return store.tables.entries.schema


def _pending(store):
    intents = store.tables.intents
    with store.engine.connect() as conn:
        return conn.execute(select(intents.c.intent_key, intents.c.problem)).all()


_CALLERS = {}


def _caller(store):
    """The caller's own engine (the audit store's SQLite engine leaves transactions to its own BEGIN)."""
    if isinstance(store, PostgresAuditStore):
        return store.engine
    if store.path not in _CALLERS:
        _CALLERS[store.path] = create_engine(f"sqlite:///{store.path}", poolclass=NullPool)
    return _CALLERS[store.path]


def _promise(store, entry, key):
    with _caller(store).begin() as conn:
        return record_intent(conn, entry, key=key, schema=_schema(store))


async def test_an_append_under_the_intents_key_writes_it_once_and_clears_the_intent(log):
    store = log.store
    entry = consultation(1)
    assert _promise(store, entry, "check:1") is True
    assert _promise(store, entry, "check:1") is False  # the same promise twice is one promise
    first = await log.append(entry, key="check:1")
    again = await log.append(entry, key="check:1")
    assert again == first
    assert _pending(store) == []
    assert _promise(store, entry, "check:1") is True  # a replay after the append...
    report = await log.drain_intents()
    assert report.appended == 1
    assert _pending(store) == []
    assert len(await log.find(AuditQuery())) == 1  # ...adds nothing to the log
    assert (await log.verify()).ok


async def test_one_key_twice_in_one_batch_is_written_once(log):
    a, b, c = consultation(1), consultation(2), consultation(3)
    receipts = await log.append_many([a, b, c], ["k:a", None, "k:a"])
    assert receipts[0] == receipts[2]
    assert receipts[1].seq != receipts[0].seq
    assert len(await log.find(AuditQuery())) == 2


async def test_an_intent_rolled_back_with_its_transaction_is_never_logged(log):
    store = log.store

    def work_that_fails():
        with _caller(store).begin() as conn:
            record_intent(conn, consultation(1), key="check:rolled-back", schema=_schema(store))
            raise RuntimeError("the caller's own write failed")

    with pytest.raises(RuntimeError):
        work_that_fails()
    assert (await log.drain_intents()).appended == 0
    assert await log.find(AuditQuery()) == []


async def test_an_intent_that_is_not_an_entry_is_set_aside_with_the_reason_and_the_rest_are_logged(
    log, tamper
):
    store = log.store
    _promise(store, consultation(1), "good:1")
    tamper.sql(
        "INSERT INTO {t}audit_intents (intent_key, entry, created_at_us) VALUES ('bad:1', :e, 0)",
        e='{"operation": "gossip", "actor": {"person": "user:x"}, "service": "pnc"}',
    )
    report = await log.drain_intents()
    assert (report.appended, report.set_aside) == (1, 1)
    (bad,) = [row for row in _pending(store) if row.intent_key == "bad:1"]
    assert "operation" in bad.problem
    assert len(await log.find(AuditQuery())) == 1
    assert (await log.drain_intents()).set_aside == 0  # set aside once, not retried in a loop


async def test_bad_intent_keys_are_refused_naming_the_problem(log):
    with pytest.raises(ValueError, match="non-empty"):
        await log.append(consultation(1), key="  ")
    with pytest.raises(ValueError, match="at most 256"):
        _promise(log.store, consultation(1), "k" * 300)
    with pytest.raises(ValueError, match="2 entries were given with 1 intent keys"):
        await log.append_many([consultation(1), consultation(2)], ["k"])


async def test_two_hub_processes_draining_at_once_log_each_intent_once(backend, keys):
    store, _ = backend
    first = AuditLog(store, keys, checkpoint_interval=None, intent_interval=None, max_batch=7)
    await first.start()
    for i in range(30):
        _promise(store, consultation(i), f"check:{i}")
    other_store = (
        SqliteAuditStore(store.path, synchronous="NORMAL")
        if isinstance(store, SqliteAuditStore)
        else PostgresAuditStore(str(store.engine.url), schema=_schema(store), pool_size=2)
    )
    second = AuditLog(other_store, keys, checkpoint_interval=None, intent_interval=None, max_batch=5)
    await second.start()  # drains on start...
    await asyncio.gather(first.drain_intents(), second.drain_intents(), first.drain_intents())
    assert len(await first.find(AuditQuery(limit=1000))) == 30
    assert _pending(store) == []
    assert (await first.verify()).ok
    await second.close()
    await first.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def crash_site(request, tmp_path):
    """A database URL and schema for a hub process to die in."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite3'}", None
    return request.getfixturevalue("postgres_url"), request.getfixturevalue("postgres_schema")


async def test_a_hub_killed_between_its_commit_and_the_append_loses_no_audit_entry(crash_site, tmp_path):
    url, schema = crash_site
    data_dir = tmp_path / "data"
    child = subprocess.run(  # noqa: ASYNC221 - the child must run to its death before we look
        [sys.executable, str(CHILD), str(data_dir), url, schema or "", "n1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout.strip() == "committed"

    keys = AuditKeys.load(data_dir)
    store = (
        SqliteAuditStore(Path(url.removeprefix("sqlite:///")), synchronous="NORMAL")
        if schema is None
        else PostgresAuditStore(url, schema=schema, pool_size=2)
    )
    with store.engine.connect() as conn:  # the case note survived the crash, and so did its intent
        assert conn.execute(select(case_notes(schema))).all() != []
    assert [row.intent_key for row in _pending(store)] == ["case-note:n1"]

    log = AuditLog(store, keys, checkpoint_interval=None, intent_interval=None)
    await log.start()  # the next start appends what the dead process promised
    try:
        (logged,) = await log.find(AuditQuery(limit=100))
        expected = the_entry("n1")
        assert logged.operation is expected.operation
        assert logged.record_ids == ["case-note:n1"]
        assert [s.value for s in logged.subjects] == ["2001/0012345X"]
        assert _pending(store) == []
        # The dead process's replay, had it lived, would find its entry already there.
        assert (await log.append(expected, key="case-note:n1")).seq == logged.seq
        assert (await log.verify()).ok
    finally:
        await log.close()

    again = AuditLog(store, keys, checkpoint_interval=None, intent_interval=None)
    await again.start()
    try:
        assert len(await again.find(AuditQuery(limit=100))) == 1
    finally:
        await again.close()


def test_a_caller_can_create_the_intent_tables_in_its_own_schema(tmp_path):
    store = SqliteAuditStore(tmp_path / "store.sqlite3")
    with store.engine.begin() as conn:
        create_intent_tables(conn)
        create_intent_tables(conn)  # idempotent
        names = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))}
    assert {"audit_intents", "audit_entry_keys"} <= names
    store.close()
