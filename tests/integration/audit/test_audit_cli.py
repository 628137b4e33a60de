"""``polestar audit ...`` on a real embedded log in a temporary data folder."""

import asyncio
import json
import os

import pytest
from _audit_helpers import PEOPLE, Tamperer, fill
from typer.testing import CliRunner

from polestar.audit import AuditKeys, AuditLog, AuditQuery, Operation, SqliteAuditStore, verify_export
from polestar.cli.audit import app
from polestar.config import HubConfig


@pytest.fixture(autouse=True)
def no_setting_overrides(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.upper().startswith("POLESTAR_") and name[9:].lower().split("__")[0] in HubConfig.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "data"
    keys = AuditKeys.load_or_create(data)

    async def build():
        log = AuditLog(SqliteAuditStore(data / "store.sqlite3"), keys, checkpoint_interval=None)
        await log.start()
        await fill(log)
        await log.close()

    asyncio.run(build())
    return data


@pytest.fixture
def audit(data_dir):
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args):
        return runner.invoke(app, [*args, "--data-dir", str(data_dir), "--actor", "user:auditor1"])

    return run


def accesses(data_dir):
    async def read():
        log = AuditLog(
            SqliteAuditStore(data_dir / "store.sqlite3"), AuditKeys.load(data_dir), checkpoint_interval=None
        )
        await log.start()
        try:
            return await log.find(AuditQuery(operation=Operation.AUDIT_ACCESS))
        finally:
            await log.close()

    return asyncio.run(read())


def test_verify_passes_on_an_untouched_log_and_is_recorded(audit, data_dir):
    result = audit("verify")
    assert result.exit_code == 0, result.output
    assert "audit log verified: 20 entries" in result.output
    (access,) = accesses(data_dir)
    assert access.actor.person == "user:auditor1"
    assert access.details["result"] == "ok"


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE audit_entries SET leaf = X'00' || leaf WHERE seq = 5", "entry 5"),
        ("DELETE FROM audit_entries WHERE seq = 8", "entry 8"),
        ("UPDATE audit_entries SET seq = -1 WHERE seq = 3", "entry 3"),
        ("INSERT INTO audit_entries SELECT 20, leaf, leaf_hash, seal, at_us, operation, actor, device, "
         "service, purpose, correlation_id FROM audit_entries WHERE seq = 19", "entry 20"),
        ("UPDATE audit_heads SET timestamp_ms = timestamp_ms + 1", "the signed tree head of size 15"),
    ],
    ids=["changed", "deleted", "renumbered", "inserted", "head"],
)  # fmt: skip
def test_verify_fails_naming_the_entry(audit, data_dir, statement, named):
    Tamperer(SqliteAuditStore(data_dir / "store.sqlite3")).sql(statement)
    result = audit("verify")
    assert result.exit_code == 1
    assert f"verification failed at {named}" in result.output
    assert "Traceback" not in result.output


def test_verify_of_swapped_rows_names_the_first(audit, data_dir):
    tamper = Tamperer(SqliteAuditStore(data_dir / "store.sqlite3"))
    tamper.sql("UPDATE audit_entries SET seq = 100 WHERE seq = 2")
    tamper.sql("UPDATE audit_entries SET seq = 2 WHERE seq = 6")
    tamper.sql("UPDATE audit_entries SET seq = 6 WHERE seq = 100")
    result = audit("verify")
    assert result.exit_code == 1
    assert "verification failed at entry 2" in result.output
    assert "holds the leaf written as entry 6" in result.output


def test_proof_prints_a_checked_audit_path(audit):
    result = audit("proof", "7", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["proof"]["seq"] == 7
    assert body["entry"]["subjects"][0]["value"] == PEOPLE[3].value
    assert "the proof checks out" in audit("proof", "7").output


def test_proof_of_an_entry_that_does_not_exist_is_a_clear_error(audit):
    result = audit("proof", "99")
    assert result.exit_code == 1
    assert "there is no audit entry 99" in result.output
    assert "Traceback" not in result.output


def test_query_by_subject_shows_who_looked(audit):
    result = audit("query", "--subject", f"PNC:{PEOPLE[1].value}")
    assert result.exit_code == 0, result.output
    assert "user:pc1" in result.output
    assert PEOPLE[1].value in result.output
    lines = audit(
        "query", "--by", "user:pc2", "--for-purpose", "roadside check", "--json"
    ).output.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [5, 11, 17]


def test_query_with_a_malformed_subject_is_refused(audit):
    result = audit("query", "--subject", "nocolon")
    assert result.exit_code == 2
    assert "TYPE:VALUE" in result.output


def test_export_writes_a_verifiable_file(audit, tmp_path, data_dir):
    out = tmp_path / "ico.jsonl"
    result = audit("export", str(out), "--system", "pnc")
    assert result.exit_code == 0, result.output
    assert "exported 20 entries" in result.output
    assert verify_export(out, AuditKeys.load(data_dir).public_key) == 20
    csv_out = tmp_path / "ico.csv"
    assert audit("export", str(csv_out), "--format", "csv").exit_code == 0
    assert (tmp_path / "ico.csv.head.json").exists()


def test_head_and_public_key(audit, data_dir):
    head = json.loads(audit("head").output)
    assert head["tree_size"] == 20
    assert "BEGIN PUBLIC KEY" in audit("head", "--public-key").output


def test_a_missing_log_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["verify", "--data-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "no audit log at" in result.output
