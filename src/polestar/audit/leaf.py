"""The stored form of an entry: canonical leaf bytes with personal fields encrypted per subject.

A leaf is ``0x01 || seq (8 bytes, big-endian) || canonical JSON``. The JSON has
sorted keys, no spaces, UTF-8 and times to the microsecond, so one entry with
the same keys and nonces always gives the same bytes. The sequence number in
the leaf is what lets ``verify`` tell a reordered row from an altered one.

Personal fields (``PERSONAL_FIELDS``) are encrypted with AES-256-GCM:

* each subject's identifier under that subject's own key, so erasing one
  person leaves the others in the entry readable;
* the query text and details under a key hashed from *all* the subjects' keys
  (or, for an entry naming nobody, the month's general key), so they become
  unreadable when any one of those subjects is erased.

Nonces are 12 random bytes stored in front of each ciphertext, not derived:
several hub processes write the log, and a write that rolls back may be
retried at the same sequence number with different content, so a nonce
derived from (key, sequence) could repeat under one key with different
plaintext, which breaks GCM. Random nonces have no such failure; per-subject
keys see far fewer than the 2^32 messages a random-nonce key may encrypt, and
the general key changes monthly. The tree hashes the ciphertext, so deleting a
key never changes a leaf: the entry still verifies but can no longer be read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from polestar.audit.bases import LegalBasis
from polestar.audit.entry import Actor, AuditEntry, Operation, Outcome, SubjectRef
from polestar.audit.keys import AuditKeys

LEAF_VERSION = 1
_HEADER = struct.Struct(">BQ")
HEADER_SIZE = _HEADER.size
NONCE_SIZE = 12
ERASED = "erased subject"
"""What a reader sees in place of a subject whose key has been destroyed."""

Nonces = Callable[[], bytes]
"""Source of 12-byte nonces (tests pass a fixed one to check determinism)."""


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A subject's encryption key and its random id (the id is all a leaf names)."""

    key_id: bytes
    key: bytes


def pseudonym(keys: AuditKeys, subject: SubjectRef) -> bytes:
    """HMAC of the subject's canonical identifier: how entries are indexed by subject."""
    return hmac.digest(keys.pseudonym_key, subject.canonical.encode(), "sha256")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8.

    orjson writes the same bytes as ``json`` with these settings for every value a leaf body
    holds (strings, ints within 64 bits, bools, None, lists, dicts with string keys: tested);
    what it refuses (non-string keys, huge ints) goes through ``json`` instead, so one value
    always takes the same path and gives the same bytes. Floats (only ever inside the
    encrypted details) are spelt as orjson spells them (``1e-8``, not ``1e-08``); they are read
    back by value, and the tree hashes their ciphertext.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _CANONICAL.encode(value).encode()


def format_time(at: datetime) -> str:
    """UTC to the microsecond, always the same length: ``2026-11-24T14:03:00.000000Z``."""
    if at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    return at.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class RandomNonces:
    """``Nonces`` drawn from the OS's random source a block at a time (one syscall per 512 nonces).

    The nonces are exactly as random as one ``os.urandom(12)`` each; only the number of system
    calls changes. Safe to share between the log's worker threads.
    """

    def __init__(self, block: int = 512) -> None:
        self._block = block
        self._buffer = b""
        self._offset = 0
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        """The next 12 random bytes."""
        with self._lock:
            if self._offset >= len(self._buffer):
                self._buffer, self._offset = os.urandom(NONCE_SIZE * self._block), 0
            start = self._offset
            self._offset += NONCE_SIZE
            return self._buffer[start : self._offset]


def month_of(at: datetime) -> str:
    """``YYYY-MM`` of ``at`` in UTC: which general key applies."""
    return at.astimezone(UTC).strftime("%Y-%m")


def _seal(key: bytes, plaintext: bytes, aad: bytes, nonces: Nonces) -> str:
    nonce = nonces()
    return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, aad)).decode()


def _open(key: bytes, sealed: str, aad: bytes) -> bytes:
    raw = base64.b64decode(sealed)
    return AESGCM(key).decrypt(raw[:NONCE_SIZE], raw[NONCE_SIZE:], aad)


def _personal_key(subject_keys: Sequence[bytes]) -> bytes:
    return hashlib.sha256(b"polestar-audit/v1/personal" + b"".join(subject_keys)).digest()


def encode_body(
    entry: AuditEntry,
    subject_keys: Sequence[SubjectKey],
    keys: AuditKeys,
    nonces: Nonces = lambda: os.urandom(NONCE_SIZE),
) -> bytes:
    """The canonical JSON of ``entry``; ``subject_keys[i]`` is the key of ``entry.subjects[i]``."""
    if len(subject_keys) != len(entry.subjects):
        raise ValueError("one key per subject is needed")
    actor = entry.actor
    body: dict[str, Any] = {
        "op": entry.operation.value,
        "at": format_time(entry.at),
        "actor": {
            k: v
            for k, v in (("person", actor.person), ("device", actor.device), ("system", actor.system))
            if v
        },
        "service": entry.service,
        "outcome": entry.outcome.value,
        "operation_id": entry.operation_id,
        "subjects": [
            {
                "type": s.type,
                "key": k.key_id.hex(),
                "value": _seal(k.key, s.value.encode(), b"subject", nonces),
            }
            for s, k in zip(entry.subjects, subject_keys, strict=True)
        ],
        "recipients": list(entry.recipients),
        "record_ids": list(entry.record_ids),
    }
    optional = {
        "on_behalf_of": entry.on_behalf_of,
        "purpose": entry.purpose,
        "legal_basis": entry.legal_basis.value if entry.legal_basis else None,
        "correlation_id": entry.correlation_id,
    }
    body.update({name: value for name, value in optional.items() if value is not None})
    personal: dict[str, Any] = {}
    if entry.query is not None:
        personal["query"] = entry.query
    if entry.details:
        personal["details"] = to_jsonable_python(entry.details)
    if personal:
        if subject_keys:
            key, ref = _personal_key([k.key for k in subject_keys]), "subjects"
        else:
            month = month_of(entry.at)
            key, ref = keys.general_key(month), f"general:{month}"
        body["personal"] = {"key": ref, "value": _seal(key, canonical_json(personal), b"personal", nonces)}
    return canonical_json(body)


def make_leaf(seq: int, body: bytes) -> bytes:
    """``0x01 || seq || body``."""
    return _HEADER.pack(LEAF_VERSION, seq) + body


def leaf_seq(leaf: bytes) -> int | None:
    """The sequence number a leaf was written at, or None if it is not a leaf of this format."""
    if len(leaf) < HEADER_SIZE or leaf[0] != LEAF_VERSION:
        return None
    return int.from_bytes(leaf[1:HEADER_SIZE], "big")


class SubjectView(BaseModel):
    """A subject as a reader sees it: its identifier, or that it was erased."""

    model_config = ConfigDict(frozen=True)

    type: str
    value: str | None = Field(description=f"None once erased (shown as {ERASED!r}).")
    erased: bool = False

    def __str__(self) -> str:
        return f"{self.type}:{ERASED}" if self.erased else f"{self.type}:{self.value}"


class AuditRecord(BaseModel):
    """One entry as read back from the log, personal fields decrypted where their keys still exist."""

    model_config = ConfigDict(frozen=True)

    seq: int
    leaf_hash: str = Field(description="Hex SHA-256 leaf hash, as in proofs.")
    operation: Operation
    at: datetime
    actor: Actor
    service: str
    outcome: Outcome
    operation_id: str
    on_behalf_of: str | None = None
    purpose: str | None = None
    legal_basis: LegalBasis | None = None
    correlation_id: str | None = None
    subjects: list[SubjectView] = Field(default_factory=list)
    recipients: list[str] = Field(default_factory=list)
    record_ids: list[str] = Field(default_factory=list)
    query: str | None = None
    details: dict[str, Any] | None = None
    personal_erased: bool = Field(
        default=False, description="The query and details can no longer be read: a subject was erased."
    )


KeyLookup = Mapping[bytes, bytes | None]
"""Subject key id → key, or None (or absent) once erased."""


def decode_leaf(leaf: bytes, leaf_hash_hex: str, subject_keys: KeyLookup, keys: AuditKeys) -> AuditRecord:
    """Read a leaf back; ``ValueError`` if it is not a well-formed leaf."""
    seq = leaf_seq(leaf)
    if seq is None:
        raise ValueError("not an audit leaf of a known format")
    body = json.loads(leaf[HEADER_SIZE:])
    subjects: list[SubjectView] = []
    found_keys: list[bytes] = []
    for s in body["subjects"]:
        key = subject_keys.get(bytes.fromhex(s["key"]))
        if key is None:
            subjects.append(SubjectView(type=s["type"], value=None, erased=True))
            continue
        found_keys.append(key)
        try:
            value = _open(key, s["value"], b"subject").decode()
        except InvalidTag:
            subjects.append(SubjectView(type=s["type"], value=None, erased=True))
        else:
            subjects.append(SubjectView(type=s["type"], value=value))
    query: str | None = None
    details: dict[str, Any] | None = None
    personal_erased = False
    personal = body.get("personal")
    if personal is not None:
        ref = personal["key"]
        key_for_personal: bytes | None
        if ref == "subjects":
            complete = len(found_keys) == len(body["subjects"])
            key_for_personal = _personal_key(found_keys) if complete else None
        else:
            key_for_personal = keys.general_key(ref.removeprefix("general:"))
        if key_for_personal is None:
            personal_erased = True
        else:
            try:
                opened = json.loads(_open(key_for_personal, personal["value"], b"personal"))
            except InvalidTag:
                personal_erased = True
            else:
                query, details = opened.get("query"), opened.get("details")
    return AuditRecord(
        seq=seq,
        leaf_hash=leaf_hash_hex,
        operation=Operation(body["op"]),
        at=datetime.strptime(body["at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        actor=Actor(**body["actor"]),
        service=body["service"],
        outcome=Outcome(body["outcome"]),
        operation_id=body["operation_id"],
        on_behalf_of=body.get("on_behalf_of"),
        purpose=body.get("purpose"),
        legal_basis=body.get("legal_basis"),
        correlation_id=body.get("correlation_id"),
        subjects=subjects,
        recipients=body["recipients"],
        record_ids=body["record_ids"],
        query=query,
        details=details,
        personal_erased=personal_erased,
    )


def subject_key_ids(leaf: bytes) -> list[bytes]:
    """The subject key ids a leaf names (to fetch them before decoding)."""
    body = json.loads(leaf[HEADER_SIZE:])
    return [bytes.fromhex(s["key"]) for s in body["subjects"]]
