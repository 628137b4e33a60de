"""Checking the whole log against its signed heads, streaming, and naming the first bad entry.

One pass in sequence order, holding only the O(log n) compact range:

1. each row's sequence number is the next expected one (else: an entry is **missing**);
2. its leaf bytes hash to its stored leaf hash (else: **altered**);
3. its seal (an HMAC of the leaf hash under the installation key) is right (else: altered by
   someone who recomputed the hash, or **forged**);
4. the sequence number written inside the leaf is its row's (else: rows were **reordered**,
   or one was inserted and the rest shifted);
5. whenever the count reaches a stored head's size, the root is that head's root (else: the
   head does not match the entries).

Every head's signature is checked first (a head that is not the log's is reported
before any entry); rows past the latest head are **extra**: nothing signed them.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from polestar.audit.heads import SignedTreeHead
from polestar.audit.leaf import HEADER_SIZE, LEAF_VERSION, leaf_seq
from polestar.audit.merkle import CompactRange
from polestar.audit.store import AuditTransaction


class Problem(StrEnum):
    """Why verification failed."""

    MISSING = "missing"
    ALTERED = "altered"
    SEAL_INVALID = "seal_invalid"
    REORDERED = "reordered"
    EXTRA = "extra"
    ROOT_MISMATCH = "root_mismatch"
    HEAD_SIGNATURE_INVALID = "head_signature_invalid"


class VerifyFailure(BaseModel):
    """The first thing found wrong."""

    model_config = ConfigDict(frozen=True)

    problem: Problem
    seq: int | None = Field(default=None, description="The entry concerned, where one can be named.")
    tree_size: int | None = Field(default=None, description="The signed head concerned, if any.")
    message: str


class VerifyReport(BaseModel):
    """What ``verify`` found: ``ok``, or the first failure."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    entries_checked: int
    heads_checked: int
    latest_head: SignedTreeHead | None
    failure: VerifyFailure | None = None
    seconds: float = 0.0


def verify_log(  # noqa: PLR0911, PLR0912 - one inlined pass (speed), one return per failure kind
    tx: AuditTransaction,
    public_key: Ed25519PublicKey,
    log_id: bytes,
    seal_key: bytes | None,
    *,
    chunk: int = 20_000,
) -> VerifyReport:
    """Verify every entry and head in ``tx``'s snapshot; ``seal_key`` None skips the seal check."""
    started = time.perf_counter()
    heads = tx.heads()
    checked = 0

    def report(failure: VerifyFailure | None, entries: int) -> VerifyReport:
        return VerifyReport(
            ok=failure is None,
            entries_checked=entries,
            heads_checked=checked,
            latest_head=heads[-1] if heads else None,
            failure=failure,
            seconds=time.perf_counter() - started,
        )

    for head in heads:
        if head.log_id != log_id.hex() or not head.signature_valid(public_key):
            return report(
                VerifyFailure(
                    problem=Problem.HEAD_SIGNATURE_INVALID,
                    tree_size=head.tree_size,
                    seq=head.tree_size - 1 if head.tree_size else None,
                    message=f"the signed tree head at size {head.tree_size} (entries 0-{head.tree_size - 1}) "
                    "does not carry this log's valid signature: it was altered or forged",
                ),
                0,
            )
    end = heads[-1].tree_size if heads else 0
    compact = CompactRange()
    expected = 0
    pending = iter(heads)
    next_head = next(pending, None)
    stray: int | None = None
    sha256, digest = hashlib.sha256, hmac.digest
    for rows in tx.leaves(end, chunk):
        for seq, leaf, stored_hash, seal in rows:
            if seq < expected:  # only a negative number sorts before 0: never written by the log
                stray = seq if stray is None else stray
                continue
            if seq != expected:
                return report(_missing(expected, seq), expected)
            try:
                h = sha256(b"\x00" + leaf).digest()
            except TypeError:  # the column no longer holds binary data
                h = b""
            if h != stored_hash:
                return report(
                    VerifyFailure(
                        problem=Problem.ALTERED,
                        seq=seq,
                        message=f"entry {seq} was altered: its bytes no longer hash to its leaf hash",
                    ),
                    expected,
                )
            if seal_key is not None and digest(seal_key, h, "sha256") != seal:
                return report(
                    VerifyFailure(
                        problem=Problem.SEAL_INVALID,
                        seq=seq,
                        message=f"entry {seq} was altered or forged: its seal does not match its leaf hash "
                        "(written by someone without the installation key)",
                    ),
                    expected,
                )
            if leaf[0] != LEAF_VERSION or int.from_bytes(leaf[1:HEADER_SIZE], "big") != seq:
                return report(
                    VerifyFailure(
                        problem=Problem.REORDERED,
                        seq=seq,
                        message=f"entry {seq} holds the leaf written as entry {leaf_seq(leaf)}: "
                        "rows were reordered, or one was inserted and the rest renumbered",
                    ),
                    expected,
                )
            compact.append(h)
            expected += 1
            while next_head is not None and next_head.tree_size == expected:
                if compact.root() != next_head.root:
                    return report(
                        VerifyFailure(
                            problem=Problem.ROOT_MISMATCH,
                            seq=expected - 1,
                            tree_size=expected,
                            message=f"entries 0-{expected - 1} do not hash to the root signed at size "
                            f"{expected}: the log was rewritten with the installation key",
                        ),
                        expected,
                    )
                checked += 1
                next_head = next(pending, None)
    if expected < end:
        return report(_missing(expected, None, end), expected)
    extra = tx.first_seq_from(end)
    if extra is None:
        extra = stray
    if extra is not None:
        return report(
            VerifyFailure(
                problem=Problem.EXTRA,
                seq=extra,
                message=f"entry {extra} is not covered by the latest signed tree head (size {end}): "
                "it was added (or renumbered) outside the hub",
            ),
            expected,
        )
    return report(None, expected)


def _missing(expected: int, found: int | None, end: int | None = None) -> VerifyFailure:
    if found is not None:
        gap = (
            f"entry {expected} is missing"
            if found == expected + 1
            else f"entries {expected}-{found - 1} are missing"
        )
    else:
        gap = (
            f"entry {expected} is missing"
            if end == expected + 1
            else f"entries {expected}-{(end or 0) - 1} are missing"
        )
    return VerifyFailure(
        problem=Problem.MISSING, seq=expected, message=f"{gap}: deleted from the log after it was signed"
    )
