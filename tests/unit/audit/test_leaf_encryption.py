"""Leaves: deterministic bytes, personal fields never in clear, and crypto-shredding."""

import json
from datetime import UTC, datetime
from itertools import count

import pytest
from hypothesis import given
from hypothesis import strategies as st

from polestar.audit import Actor, AuditEntry, AuditKeys, AuditPolicy, Operation, PurposeRequired, SubjectRef
from polestar.audit.leaf import (
    HEADER_SIZE,
    RandomNonces,
    SubjectKey,
    canonical_json,
    decode_leaf,
    encode_body,
    leaf_seq,
    make_leaf,
    pseudonym,
)
from polestar.audit.merkle import leaf_hash

KEYS = AuditKeys.generate()
ALICE = SubjectRef(type="PNC", value="2001/0012345X")
BOB = SubjectRef(type="CRO", value="123456/01Y")
A_KEY = SubjectKey(b"\x01" * 16, b"\xaa" * 32)
B_KEY = SubjectKey(b"\x02" * 16, b"\xbb" * 32)


def fixed_nonces():
    c = count()
    return lambda: next(c).to_bytes(12, "big")


def consultation(**changes):
    fields = {
        "operation": Operation.CONSULTATION,
        "actor": Actor(person="user:pc1234", device="device:tablet-0042"),
        "service": "pnc",
        "at": datetime(2026, 11, 24, 14, 3, 0, 123456, tzinfo=UTC),
        "purpose": "roadside check",
        "operation_id": "op-1",
        "subjects": [ALICE, BOB],
        "query": "name=Alice Smith dob=1980-01-01",
        "details": {"vrm": "AB12CDE", "nested": {"b": 1, "a": 2}},
    }
    return AuditEntry(**{**fields, **changes})


def test_the_same_entry_and_nonces_give_the_same_bytes():
    one = encode_body(consultation(), [A_KEY, B_KEY], KEYS, fixed_nonces())
    two = encode_body(
        consultation(details={"nested": {"a": 2, "b": 1}, "vrm": "AB12CDE"}),
        [A_KEY, B_KEY],
        KEYS,
        fixed_nonces(),
    )
    assert one == two
    assert json.loads(one) == json.loads(one.decode())
    assert b" " not in one.split(b'"purpose"')[0]  # no whitespace between tokens


def test_leaf_carries_its_sequence_number_in_front():
    leaf = make_leaf(42, b"{}")
    assert leaf_seq(leaf) == 42
    assert leaf[:HEADER_SIZE] == b"\x01" + (42).to_bytes(8, "big")
    assert leaf_seq(b"\x07junk") is None


def test_personal_fields_are_not_in_clear_but_who_and_why_are():
    body = encode_body(consultation(), [A_KEY, B_KEY], KEYS)
    for secret in (b"2001/0012345X", b"123456/01Y", b"Alice", b"AB12CDE"):
        assert secret not in body
    for readable in (b"user:pc1234", b"roadside check", b"consultation", b"pnc"):
        assert readable in body


def test_a_leaf_reads_back_while_the_keys_exist():
    leaf = make_leaf(7, encode_body(consultation(), [A_KEY, B_KEY], KEYS))
    record = decode_leaf(
        leaf, leaf_hash(leaf).hex(), {A_KEY.key_id: A_KEY.key, B_KEY.key_id: B_KEY.key}, KEYS
    )
    assert record.seq == 7
    assert [s.value for s in record.subjects] == [ALICE.value, BOB.value]
    assert record.query == "name=Alice Smith dob=1980-01-01"
    assert record.details == {"vrm": "AB12CDE", "nested": {"b": 1, "a": 2}}
    assert record.at == datetime(2026, 11, 24, 14, 3, 0, 123456, tzinfo=UTC)
    assert record.actor.device == "device:tablet-0042"


def test_erasing_one_subject_hides_them_and_the_shared_details_but_not_the_other():
    leaf = make_leaf(7, encode_body(consultation(), [A_KEY, B_KEY], KEYS))
    record = decode_leaf(leaf, "", {A_KEY.key_id: None, B_KEY.key_id: B_KEY.key}, KEYS)
    assert record.subjects[0].erased
    assert record.subjects[0].value is None
    assert str(record.subjects[0]) == "PNC:erased subject"
    assert record.subjects[1].value == BOB.value
    assert record.personal_erased
    assert record.query is None
    assert record.details is None
    assert record.actor.person == "user:pc1234"


def test_an_entry_naming_nobody_encrypts_its_query_under_the_general_key():
    entry = consultation(subjects=[], query="who owns AB12CDE")
    body = encode_body(entry, [], KEYS)
    assert b"AB12CDE" not in body
    assert b"general:2026-11" in body
    assert decode_leaf(make_leaf(0, body), "", {}, KEYS).query == "who owns AB12CDE"


def test_subjects_are_kept_once_and_pseudonyms_ignore_case():
    entry = consultation(subjects=[ALICE, SubjectRef(type="pnc", value=" 2001/0012345x ")])
    assert len(entry.subjects) == 1
    assert pseudonym(KEYS, ALICE) == pseudonym(KEYS, SubjectRef(type="pnc", value="2001/0012345x"))
    assert pseudonym(KEYS, ALICE) != pseudonym(AuditKeys.generate(), ALICE)


def test_an_actor_is_someone():
    with pytest.raises(ValueError, match="person, a device or a system"):
        Actor()
    assert Actor.parse("user:pc1").person == "user:pc1"
    assert Actor.parse("device:t1").device == "device:t1"
    assert Actor.parse("system:cad").system == "system:cad"


def test_policy_requires_a_purpose_for_consultation_and_disclosure():
    policy = AuditPolicy()
    with pytest.raises(PurposeRequired, match="consultation needs a stated purpose"):
        policy.check(Operation.CONSULTATION, "  ")
    policy.check(Operation.DISCLOSURE, "case file to CPS")
    policy.check(Operation.COLLECTION, None)


def test_keys_are_created_once_in_the_data_folder(tmp_path):
    first = AuditKeys.load_or_create(tmp_path)
    again = AuditKeys.load_or_create(tmp_path)
    assert first.log_id == again.log_id
    assert first.seal_key == again.seal_key
    assert (tmp_path / "audit" / "signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert b"PUBLIC KEY" in (tmp_path / "audit" / "signing-key.pub.pem").read_bytes()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_canonical_json_is_the_same_bytes_as_the_standard_encoder_would_write(value):
    # orjson writes the leaves now; the bytes must be what json with the same settings writes,
    # so the form stays one canonical form whichever encoder produced an entry. (Floats differ
    # in exponent spelling, but only encrypted details can hold one, and they are read back
    # by value: the leaf hashes their ciphertext.)
    standard = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical_json(value) == standard


def test_values_orjson_refuses_still_encode_canonically():
    value = {"big": 2**70, "nested": {1: "one"}}
    assert canonical_json(value) == json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def test_random_nonces_are_twelve_bytes_and_never_repeat_in_a_run():
    nonces = RandomNonces(block=4)
    drawn = [nonces() for _ in range(1000)]
    assert {len(n) for n in drawn} == {12}
    assert len(set(drawn)) == len(drawn)
