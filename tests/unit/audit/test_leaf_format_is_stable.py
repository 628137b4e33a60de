"""The leaf format is frozen: entries written by earlier versions must keep verifying and decoding.

The digests below were taken from the leaf encoder as first released (version 1 leaves).
Speeding up the encoder must not change one byte of what it writes for the same entry, keys
and nonces; a change here needs a new ``LEAF_VERSION`` and an upcaster, not a new digest.
"""

import hashlib
from datetime import UTC, datetime
from itertools import count

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from polestar.audit import Actor, AuditEntry, AuditKeys, LegalBasis, Operation, Outcome, SubjectRef
from polestar.audit.leaf import SubjectKey, decode_leaf, encode_body, make_leaf
from polestar.audit.merkle import leaf_hash

KEYS = AuditKeys(Ed25519PrivateKey.from_private_bytes(b"\x07" * 32), b"\x09" * 32)
AT = datetime(2026, 11, 24, 14, 3, 0, 123456, tzinfo=UTC)
ALICE = SubjectRef(type="PNC", value="2001/0012345X")
BOB = SubjectRef(type="CRO", value="123456/01Y")
A_KEY = SubjectKey(b"\x01" * 16, b"\xaa" * 32)
B_KEY = SubjectKey(b"\x02" * 16, b"\xbb" * 32)


def fixed_nonces():
    c = count()
    return lambda: next(c).to_bytes(12, "big")


ENTRIES = {
    "consultation of two people with query and details": (
        AuditEntry(
            operation=Operation.CONSULTATION,
            actor=Actor(person="user:pc1234", device="device:tablet-0042"),
            service="pnc",
            at=AT,
            purpose="roadside check",
            legal_basis=LegalBasis.LAW_ENFORCEMENT_TASK,
            correlation_id="flow-1",
            operation_id="op-1",
            subjects=[ALICE, BOB],
            query="name=Alice Smith dob=1980-01-01",
            record_ids=["person:1", "person:2"],
            details={"vrm": "AB12CDE", "nested": {"b": 1, "a": [2, None, True]}, "n": 10**20},
        ),
        [A_KEY, B_KEY],
    ),
    "disclosure naming nobody, with recipients": (
        AuditEntry(
            operation=Operation.DISCLOSURE,
            actor=Actor(system="system:cad"),
            service="routes",
            at=AT,
            outcome=Outcome.REFUSED,
            on_behalf_of="Thames Valley Police",
            operation_id="op-2",
            recipients=["system:warehouse", "system:footwear"],
            details={"why": "Zoë's café — ünïcode", "at": AT},
        ),
        [],
    ),
    "bare collection": (
        AuditEntry(
            operation=Operation.COLLECTION,
            actor=Actor(device="device:tablet-0001"),
            service="ingest",
            at=AT,
            operation_id="op-3",
            subjects=[ALICE],
        ),
        [A_KEY],
    ),
}

# sha256 of the version 1 leaf at seq 7 for each entry above (fixed keys and nonces).
DIGESTS = {
    "consultation of two people with query and details": (
        "13a86cf628ad02a3d0cb5c9f48377f19cc641aa60b53fbbe4ea933258a2a9469"
    ),
    "disclosure naming nobody, with recipients": (
        "d68874276862309b8d118d2b0c12e6c9023ee19ab296eee3556b9d4de17ff383"
    ),
    "bare collection": ("075a52bcaf8179e09be460771a874e34431152c3dd108b0f6335081ef076ae1f"),
}


@pytest.mark.parametrize("name", list(ENTRIES))
def test_leaf_bytes_are_those_of_the_first_release(name):
    entry, subject_keys = ENTRIES[name]
    leaf = make_leaf(7, encode_body(entry, subject_keys, KEYS, fixed_nonces()))
    assert hashlib.sha256(leaf).hexdigest() == DIGESTS[name]


@pytest.mark.parametrize("name", list(ENTRIES))
def test_leaves_of_the_first_release_still_decode(name):
    entry, subject_keys = ENTRIES[name]
    leaf = make_leaf(7, encode_body(entry, subject_keys, KEYS, fixed_nonces()))
    record = decode_leaf(leaf, leaf_hash(leaf).hex(), {k.key_id: k.key for k in subject_keys}, KEYS)
    assert record.seq == 7
    assert record.operation == entry.operation
    assert [s.value for s in record.subjects] == [s.value for s in entry.subjects]
    assert record.query == entry.query
