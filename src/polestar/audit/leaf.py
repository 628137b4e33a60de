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
from binascii import b2a_base64
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import chain
from typing import Any, NamedTuple

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_jsonable_python

from polestar.audit.bases import LegalBasis
from polestar.audit.entry import Actor, AuditEntry, Operation, Outcome, SubjectRef
from polestar.audit.keys import AuditKeys

LEAF_VERSION = 1
HEADER = struct.Struct(">BQ")
HEADER_SIZE = HEADER.size
NONCE_SIZE = 12
ERASED = "erased subject"
"""What a reader sees in place of a subject whose key has been destroyed."""

Nonces = Callable[[], bytes]
"""Source of 12-byte nonces (tests pass a fixed one to check determinism)."""


class SubjectKey(NamedTuple):
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
    return at.isoformat(timespec="microseconds")[:-6] + "Z"  # "+00:00" → "Z"


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

    def block(self, count: int) -> Nonces:
        """A source of ``count`` nonces from one draw (then, if asked for more, from this one).

        For one batch, from one thread: handing a nonce out is then a C-level ``next``.
        """
        buffer = os.urandom(NONCE_SIZE * count)
        drawn = [buffer[i : i + NONCE_SIZE] for i in range(0, len(buffer), NONCE_SIZE)]
        return chain(drawn, iter(self, b"")).__next__

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


Ciphers = dict[bytes, AESGCM]
"""AES-GCM contexts by key (the personal fields' by ``b"p" + the subjects' keys``), shared by the
entries of a batch: setting up a key costs more than encrypting one short field with it."""


def _seal(cipher: AESGCM, plaintext: bytes, aad: bytes, nonces: Nonces) -> str:
    nonce = nonces()
    return b2a_base64(nonce + cipher.encrypt(nonce, plaintext, aad), newline=False).decode()


def _cipher(ciphers: Ciphers, key: bytes) -> AESGCM:
    found = ciphers.get(key)
    if found is None:
        found = ciphers[key] = AESGCM(key)
    return found


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
    ciphers: Ciphers | None = None,
) -> bytes:
    """The canonical JSON of ``entry``; ``subject_keys[i]`` is the key of ``entry.subjects[i]``.

    ``ciphers`` caches AES-GCM contexts across the entries of a batch; it changes no byte written
    (``tests/unit/audit/test_leaf_format_is_stable.py`` holds the format to its first release).
    """
    if len(subject_keys) != len(entry.subjects):
        raise ValueError("one key per subject is needed")
    if ciphers is None:
        ciphers = {}
    # Sorted by orjson: insertion order here is irrelevant to the bytes.
    body: dict[str, Any] = {
        "op": entry.operation,  # a StrEnum: written as its value
        "at": format_time(entry.at),
        "actor": _who(entry.actor),
        "service": entry.service,
        "outcome": entry.outcome,
        "operation_id": entry.operation_id,
        "subjects": [
            {
                "type": s.type,
                "key": k.key_id.hex(),
                "value": _seal(_cipher(ciphers, k.key), s.value.encode(), b"subject", nonces),
            }
            for s, k in zip(entry.subjects, subject_keys, strict=True)
        ],
        "recipients": list(entry.recipients),
        "record_ids": list(entry.record_ids),
    }
    optional = (
        ("on_behalf_of", entry.on_behalf_of),
        ("purpose", entry.purpose),
        ("legal_basis", entry.legal_basis),
        ("correlation_id", entry.correlation_id),
    )
    body.update({name: value for name, value in optional if value is not None})
    personal: dict[str, Any] = {}
    if entry.query is not None:
        personal["query"] = entry.query
    if entry.details:
        personal["details"] = to_jsonable_python(entry.details)
    if personal:
        if subject_keys:
            joined = b"".join([k.key for k in subject_keys])
            cipher = ciphers.get(b"p" + joined)
            if cipher is None:
                cipher = ciphers[b"p" + joined] = AESGCM(_personal_key([joined]))
            ref = "subjects"
        else:
            month = month_of(entry.at)
            cipher, ref = _cipher(ciphers, keys.general_key(month)), f"general:{month}"
        sealed = _seal(cipher, canonical_json(personal), b"personal", nonces)
        body["personal"] = {"key": ref, "value": sealed}
    return canonical_json(body)


def _who(actor: Actor) -> dict[str, str]:
    who: dict[str, str] = {}
    if actor.person:
        who["person"] = actor.person
    if actor.device:
        who["device"] = actor.device
    if actor.system:
        who["system"] = actor.system
    return who


def make_leaf(seq: int, body: bytes) -> bytes:
    """``0x01 || seq || body``."""
    return HEADER.pack(LEAF_VERSION, seq) + body


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
