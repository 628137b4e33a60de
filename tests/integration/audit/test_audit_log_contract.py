"""The audit log's behaviour, the same on SQLite and PostgreSQL: queries, access, erasure, proofs, export."""

import asyncio
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from _audit_helpers import PEOPLE, consultation, fill

from polestar.audit import (
    AUDITOR_ROLE,
    Actor,
    AuditAccess,
    AuditAccessDenied,
    AuditActionSink,
    AuditLog,
    AuditQuery,
    AuditReader,
    ExportFormat,
    FileWitness,
    HttpWitness,
    Operation,
    Outcome,
    verify_export,
)
from polestar.bus.admin import ActionOutcome, OperatorAction, OperatorActionKind
from polestar.model.timeutil import utcnow

AUDITOR = AuditAccess(actor="user:dc5678", roles=frozenset({AUDITOR_ROLE}), purpose="PSD investigation 114")
OFFICER = AuditAccess(actor="user:pc1234", roles=frozenset({"officer"}))


async def test_who_has_looked_at_this_person(log):
    await fill(log)
    found = await AuditReader(log).query(AUDITOR, AuditQuery(subject=PEOPLE[1]))
    assert [r.seq for r in found] == [1, 5, 9, 13, 17]
    assert {r.subjects[0].value for r in found} == {PEOPLE[1].value}
    assert all(r.query and r.query.startswith("check on person") for r in found)


async def test_queries_by_actor_system_purpose_operation_and_time(log):
    before = utcnow()
    await fill(log)
    reader = AuditReader(log)
    by_actor = await reader.query(AUDITOR, AuditQuery(actor="user:pc2"))
    assert [r.seq for r in by_actor] == [2, 5, 8, 11, 14, 17]
    by_device = await reader.query(AUDITOR, AuditQuery(actor="device:tablet-0042", limit=3))
    assert [r.seq for r in by_device] == [0, 1, 2]
    by_purpose = await reader.query(AUDITOR, AuditQuery(purpose="roadside check", system="pnc"))
    assert [r.seq for r in by_purpose] == list(range(1, 20, 2))
    assert await reader.query(AUDITOR, AuditQuery(system="custody")) == []
    later = await reader.query(
        AUDITOR, AuditQuery(since=before, until=utcnow() + timedelta(seconds=1), limit=100)
    )
    assert len(later) >= 20
    assert await reader.query(AUDITOR, AuditQuery(until=before)) == []
    flow = await reader.query(AUDITOR, AuditQuery(correlation_id="flow-1", operation=Operation.CONSULTATION))
    assert [r.seq for r in flow] == [5, 6, 7, 8, 9]


async def test_every_access_to_the_log_is_itself_logged(log):
    await fill(log)
    reader = AuditReader(log)
    await reader.query(AUDITOR, AuditQuery(subject=PEOPLE[0]))
    with pytest.raises(AuditAccessDenied, match="the 'auditor' role is required"):
        await reader.query(OFFICER, AuditQuery(actor="user:pc1"))
    accesses = await log.find(AuditQuery(operation=Operation.AUDIT_ACCESS))
    assert [(r.actor.person, r.outcome) for r in accesses] == [
        ("user:dc5678", Outcome.SUCCEEDED),
        ("user:pc1234", Outcome.REFUSED),
    ]
    allowed = accesses[0]
    assert allowed.purpose == "PSD investigation 114"
    assert allowed.record_ids == ["audit:0", "audit:4", "audit:8", "audit:12", "audit:16"]
    assert allowed.subjects[0].value == PEOPLE[0].value  # who looked into the audit trail of this person
    # ...and so that access shows up when the person's trail is asked for again
    again = await reader.query(AUDITOR, AuditQuery(subject=PEOPLE[0]))
    assert again[-1].operation is Operation.AUDIT_ACCESS


async def test_erasing_a_subject_keeps_the_log_verifying_and_hides_them(log):
    await fill(log)
    receipt, destroyed = await log.erase_subject(
        PEOPLE[2], actor=Actor(person="user:dpo1"), service="rights", record_ids=["person:2"]
    )
    assert destroyed == 1
    assert (await log.verify()).ok
    assert await log.find(AuditQuery(subject=PEOPLE[2])) == []
    entry = await log.record(2)
    assert entry.subjects[0].erased
    assert entry.personal_erased
    assert entry.query is None
    assert entry.actor.person == "user:pc2"  # who looked stays readable
    erasure = await log.record(receipt.seq)
    assert erasure.operation is Operation.ERASURE
    assert erasure.record_ids == ["person:2"]  # which record, when, by whom; never the content
    assert erasure.actor.person == "user:dpo1"
    assert erasure.subjects[0].erased
    # the same person appearing again gets a new key; the old entries stay unreadable
    await log.append(consultation(2))
    found = await log.find(AuditQuery(subject=PEOPLE[2]))
    assert len(found) == 1
    assert found[0].seq == receipt.seq + 1
    assert (await log.record(2)).subjects[0].erased
    assert (await log.verify()).ok


async def test_inclusion_and_consistency_proofs_check_out_against_signed_heads(log):
    await fill(log)
    heads = await log.heads()
    assert [h.tree_size for h in heads] == [15, 20]
    assert [h.checkpoint for h in heads] == [True, False]
    for seq in (0, 7, 14):
        proof = await log.inclusion_proof(seq, tree_size=15)
        assert proof.root_hash == heads[0].root_hash
        assert proof.verify()
    latest = await log.inclusion_proof(19)
    assert latest.root_hash == heads[1].root_hash
    assert latest.verify()
    consistency = await log.consistency_proof(15, 20)
    assert (consistency.first_root, consistency.second_root) == (heads[0].root_hash, heads[1].root_hash)
    assert consistency.verify()


async def test_export_for_the_regulator_verifies_on_its_own(log, tmp_path):
    await fill(log)
    reader = AuditReader(log)
    # the first export is itself an access about this person, so the second one includes it
    for fmt, expected in ((ExportFormat.JSONL, 5), (ExportFormat.CSV, 6)):
        out = tmp_path / f"export.{fmt.value}"
        summary = await reader.export(AUDITOR, AuditQuery(subject=PEOPLE[3]), out, fmt)
        assert summary.entries == expected
        assert verify_export(out, log.keys.public_key) == expected
    lines = [json.loads(line) for line in (tmp_path / "export.jsonl").read_text().splitlines()]
    assert [line["type"] for line in lines[:3]] == ["log", "signed_tree_head", "entry"]
    assert lines[2]["record"]["subjects"][0]["value"] == PEOPLE[3].value
    lines[2]["leaf_base64"] = lines[3]["leaf_base64"]
    forged = tmp_path / "forged.jsonl"
    forged.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(ValueError, match="entry 3: the leaf does not hash"):
        verify_export(forged, log.keys.public_key)


async def test_refused_export_writes_nothing(log, tmp_path):
    await fill(log, 3)
    with pytest.raises(AuditAccessDenied):
        await AuditReader(log).export(OFFICER, AuditQuery(), tmp_path / "x.jsonl", ExportFormat.JSONL)
    assert not (tmp_path / "x.jsonl").exists()


async def test_operator_actions_on_the_bus_are_logged(log):
    sink = AuditActionSink(log)
    await sink(
        OperatorAction(
            actor="user:ops1",
            action=OperatorActionKind.DEAD_LETTER_REPLAYED,
            outcome=ActionOutcome.SUCCEEDED,
            target="dl-42",
            reason="custody system fixed",
            group="custody-to-warehouse",
            event_id="ev-9",
            event_type="custody.detainee.released",
            detail="redelivered as sequence 77",
        )
    )
    (entry,) = await log.find(AuditQuery(operation=Operation.OPERATOR_ACTION))
    assert entry.actor.person == "user:ops1"
    assert entry.purpose == "custody system fixed"
    assert entry.record_ids == ["dl-42", "ev-9"]
    assert entry.details["action"] == "dead_letter.replayed"
    assert entry.service == "polestar-bus"


async def test_concurrent_appends_are_group_committed_in_order(log):
    receipts = await asyncio.gather(*(log.append(consultation(i)) for i in range(40)))
    assert sorted(r.seq for r in receipts) == list(range(40))
    assert len({r.seq for r in receipts}) == 40
    assert (await log.verify()).ok


async def test_a_log_reopened_carries_on_from_its_signed_head(backend, keys):
    store, _ = backend
    first = AuditLog(store, keys, checkpoint_interval=None)
    await first.start()
    await fill(first, 6)
    await first.close()
    again = AuditLog(store, keys, checkpoint_interval=None)
    await again.start()
    receipt = await again.append(consultation(6))
    assert receipt.seq == 6
    report = await again.verify()
    await again.close()
    assert report.ok
    assert report.latest_head.tree_size == 7


class _Witness(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


async def test_checkpoints_reach_a_file_witness_and_an_http_witness(backend, keys, tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Witness)
    _Witness.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        file_witness = FileWitness(tmp_path / "witness.jsonl")
        url = f"http://127.0.0.1:{server.server_address[1]}/heads"
        log = AuditLog(backend[0], keys, witnesses=[file_witness, HttpWitness(url)], checkpoint_interval=None)
        await log.start()
        await fill(log, 4)
        head = await log.checkpoint()
        await log.append(consultation(9))
        await log.close()  # closing checkpoints what was appended since
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    witnessed = file_witness.heads()
    assert [h.tree_size for h in witnessed] == [4, 5]
    assert witnessed[0] == head
    assert all(h.signature_valid(keys.public_key) for h in witnessed)
    assert [r["tree_size"] for r in _Witness.received] == [4, 5]
    assert "PUBLIC KEY" in _Witness.received[0]["public_key_pem"]
