"""Change, delete, reorder or insert a row behind the hub's back: verify names the entry every time."""

import gc
import hashlib

import pytest
from _audit_helpers import consultation, fill

from polestar.audit import AuditLogCorrupt, Problem
from polestar.audit.leaf import make_leaf
from polestar.audit.verify import verify_log


def _leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + leaf).digest()


async def test_an_untouched_log_verifies(log):
    await fill(log)
    report = await log.verify()
    assert report.ok, report.failure
    assert report.entries_checked == 20
    assert report.heads_checked == 2  # the checkpoint at 15 and the latest at 20
    assert report.latest_head.tree_size == 20


async def test_changing_a_row_s_bytes_is_named(log, tamper):
    await fill(log)
    leaf = bytes(tamper.row(7)["leaf"])
    forged = leaf.replace(b"roadside check", b"roadside chock")
    tamper.sql("UPDATE {t}audit_entries SET leaf = :leaf WHERE seq = 7", leaf=forged)
    report = await log.verify()
    assert report.failure.problem is Problem.ALTERED
    assert report.failure.seq == 7
    assert "entry 7 was altered" in report.failure.message


async def test_changing_bytes_and_recomputing_the_leaf_hash_is_named(log, tamper):
    await fill(log)
    forged = bytes(tamper.row(4)["leaf"]).replace(b"user:pc1", b"user:pc9")
    tamper.sql(
        "UPDATE {t}audit_entries SET leaf = :leaf, leaf_hash = :h WHERE seq = 4",
        leaf=forged,
        h=_leaf_hash(forged),
    )
    report = await log.verify()
    assert report.failure.problem is Problem.SEAL_INVALID
    assert report.failure.seq == 4


async def test_deleting_a_row_is_named(log, tamper):
    await fill(log)
    tamper.sql("DELETE FROM {t}audit_entries WHERE seq = 12")
    report = await log.verify()
    assert report.failure.problem is Problem.MISSING
    assert report.failure.seq == 12
    assert "entry 12 is missing" in report.failure.message


async def test_deleting_the_newest_rows_is_named(log, tamper):
    await fill(log)
    tamper.sql("DELETE FROM {t}audit_entries WHERE seq >= 18")
    report = await log.verify()
    assert report.failure.problem is Problem.MISSING
    assert report.failure.seq == 18
    assert "entries 18-19 are missing" in report.failure.message


async def test_swapping_two_rows_is_named(log, tamper):
    await fill(log)
    a, b = tamper.row(3), tamper.row(9)
    for seq, other in ((3, b), (9, a)):
        tamper.sql(
            "UPDATE {t}audit_entries SET leaf = :leaf, leaf_hash = :h, seal = :seal WHERE seq = :s",
            leaf=other["leaf"],
            h=other["leaf_hash"],
            seal=other["seal"],
            s=seq,
        )
    report = await log.verify()
    assert report.failure.problem is Problem.REORDERED
    assert report.failure.seq == 3
    assert "holds the leaf written as entry 9" in report.failure.message


async def test_inserting_a_forged_row_at_the_end_is_named(log, tamper):
    await fill(log)
    leaf = make_leaf(20, bytes(tamper.row(19)["leaf"])[9:])
    tamper.sql(
        "INSERT INTO {t}audit_entries (seq, leaf, leaf_hash, seal, at_us, operation, actor, service) "
        "VALUES (20, :leaf, :h, :seal, 0, 'consultation', 'user:pc1', 'pnc')",
        leaf=leaf,
        h=_leaf_hash(leaf),
        seal=b"\x00" * 32,
    )
    report = await log.verify()
    assert report.failure.problem is Problem.EXTRA
    assert report.failure.seq == 20


async def test_inserting_a_forged_row_in_the_middle_is_named(log, tamper):
    await fill(log)
    tamper.sql("UPDATE {t}audit_entries SET seq = seq + 1000 WHERE seq >= 6")
    tamper.sql("UPDATE {t}audit_entries SET seq = seq - 999 WHERE seq >= 1000")
    leaf = make_leaf(6, bytes(tamper.row(7)["leaf"])[9:])
    tamper.sql(
        "INSERT INTO {t}audit_entries (seq, leaf, leaf_hash, seal, at_us, operation, actor, service) "
        "VALUES (6, :leaf, :h, :seal, 0, 'consultation', 'user:pc1', 'pnc')",
        leaf=leaf,
        h=_leaf_hash(leaf),
        seal=b"\x00" * 32,
    )
    report = await log.verify()
    assert report.failure.seq == 6
    assert report.failure.problem is Problem.SEAL_INVALID


async def test_tampering_with_a_signed_head_is_named(log, tamper):
    await fill(log)
    tamper.sql("UPDATE {t}audit_heads SET root_hash = :r WHERE tree_size = 15", r=b"\x11" * 32)
    report = await log.verify()
    assert report.failure.problem is Problem.HEAD_SIGNATURE_INVALID
    assert report.failure.tree_size == 15
    assert "signed tree head at size 15" in report.failure.message


async def test_a_tampered_log_refuses_further_appends_instead_of_resealing_them(log, tamper):
    await fill(log)
    tamper.sql(
        "INSERT INTO {t}audit_entries (seq, leaf, leaf_hash, seal, at_us, operation, actor, service) "
        "VALUES (20, :x, :x, :x, 0, 'consultation', 'user:pc1', 'pnc')",
        x=b"\x00" * 32,
    )
    with pytest.raises(AuditLogCorrupt, match="entry 20 is past the latest signed head"):
        await log.append(consultation(99))
    assert (await log.verify()).failure.seq == 20


def _verify_in_chunks(log, chunk):
    keys = log.keys
    with log.store.transaction(write=False) as tx:
        return verify_log(tx, keys.public_key, keys.log_id, keys.seal_key, chunk=chunk)


@pytest.mark.parametrize("chunk", [1, 3, 7, 15, 64])
async def test_the_same_entry_is_named_whatever_the_chunk_size(log, tamper, chunk):
    await fill(log)
    untouched = _verify_in_chunks(log, chunk)
    assert untouched.ok, untouched.failure
    assert (untouched.entries_checked, untouched.heads_checked) == (20, 2)
    a, b = tamper.row(11), tamper.row(13)
    tamper.sql(
        "UPDATE {t}audit_entries SET leaf = :leaf, leaf_hash = :h, seal = :seal WHERE seq = 11",
        leaf=b["leaf"],
        h=b["leaf_hash"],
        seal=b["seal"],
    )
    tamper.sql("DELETE FROM {t}audit_entries WHERE seq = 17")
    report = _verify_in_chunks(log, chunk)
    assert report.failure.problem is Problem.REORDERED
    assert report.failure.seq == 11
    assert report.entries_checked == 11
    assert a["seq"] == 11


async def test_verify_leaves_the_garbage_collector_as_it_found_it(log):
    await fill(log)
    assert gc.isenabled()
    assert (await log.verify()).ok
    assert gc.isenabled()
    gc.disable()
    try:
        assert (await log.verify()).ok
        assert not gc.isenabled()
    finally:
        gc.enable()
