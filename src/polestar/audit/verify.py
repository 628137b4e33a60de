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

For speed, each chunk of rows is checked at once with list operations (leaf hashes,
seals by ``Sealer``, the numbers in the leaves), and its hashes join the tree a
perfect subtree at a time (``CompactRange.extend``), cut at every head's size. Only
a chunk that fails some check is walked again row by row, which names the first bad
entry and why exactly as a row-by-row pass would.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from polestar.audit.heads import SignedTreeHead
from polestar.audit.leaf import HEADER, HEADER_SIZE, LEAF_VERSION, leaf_seq
from polestar.audit.merkle import CompactRange
from polestar.audit.seals import Sealer
from polestar.audit.store import AuditTransaction, LeafRow


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


def verify_log(
    tx: AuditTransaction,
    public_key: Ed25519PublicKey,
    log_id: bytes,
    seal_key: bytes | None,
    *,
    chunk: int = 16_384,
) -> VerifyReport:
    """Verify every entry and head in ``tx``'s snapshot; ``seal_key`` None skips the seal check."""
    started = time.perf_counter()
    heads = tx.heads()
    walk = _Walk(heads, seal_key)

    def report(failure: VerifyFailure | None) -> VerifyReport:
        return VerifyReport(
            ok=failure is None,
            entries_checked=walk.expected,
            heads_checked=walk.checked,
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
                )
            )
    end = heads[-1].tree_size if heads else 0
    failure = walk.heads_at(0)
    if failure is not None:
        return report(failure)
    with _collector_paused():
        failure = _walk_all(walk, tx.leaves(end, chunk))
    if failure is not None:
        return report(failure)
    if walk.expected < end:
        return report(_missing(walk.expected, None, end))
    extra = tx.first_seq_from(end)
    if extra is None:
        extra = walk.stray
    if extra is not None:
        return report(
            VerifyFailure(
                problem=Problem.EXTRA,
                seq=extra,
                message=f"entry {extra} is not covered by the latest signed tree head (size {end}): "
                "it was added (or renumbered) outside the hub",
            )
        )
    return report(None)


def _walk_all(walk: _Walk, chunks: Iterable[Sequence[LeafRow]]) -> VerifyFailure | None:
    for rows in chunks:
        # The whole chunk is checked with list operations; only a chunk with something wrong
        # in it is walked again row by row, to name the first bad entry and why.
        failure = walk.chunk(rows)
        if failure is _ROW_BY_ROW:
            failure = walk.rows(rows)
        if failure is not None:
            return failure
    return None


_paused = 0
_resume = True
_paused_lock = threading.Lock()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off Python's cyclic garbage collector for one pass (reference counting still frees).

    A pass allocates a million row tuples; the full collections that churn sets off cost
    about a fifth of the pass (measured: 20 of them, 1.3 s of 7.4 s CPU), more in a hub
    process with a larger heap. What the pass drops is freed by reference counting; any
    cycle elsewhere waits the few seconds of the pass. Nested and concurrent passes share
    one pause, and the collector comes back only if it was on when the first began.
    """
    global _paused, _resume  # noqa: PLW0603 - one process-wide collector, one pause count
    with _paused_lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _paused_lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()


_ROW_BY_ROW = VerifyFailure(problem=Problem.ALTERED, message="(internal: check this chunk row by row)")
"""What ``_Walk.chunk`` returns when some check failed and ``_Walk.rows`` must say which and why."""


class _Walk:
    """One pass over the rows in sequence order: the tree so far and the next head to check."""

    def __init__(self, heads: Sequence[SignedTreeHead], seal_key: bytes | None) -> None:
        self.sealer = Sealer(seal_key) if seal_key is not None else None
        self.compact = CompactRange()
        self.expected = 0
        self.checked = 0
        self.stray: int | None = None
        self._heads = list(heads)
        self._next = 0

    def heads_at(self, size: int) -> VerifyFailure | None:
        """Check every head signed at ``size`` (the tree holds exactly ``size`` leaves)."""
        heads = self._heads
        while self._next < len(heads) and heads[self._next].tree_size == size:
            if self.compact.root() != heads[self._next].root:
                return VerifyFailure(
                    problem=Problem.ROOT_MISMATCH,
                    seq=size - 1 if size else None,
                    tree_size=size,
                    message=f"entries 0-{size - 1} do not hash to the root signed at size "
                    f"{size}: the log was rewritten with the installation key",
                )
            self.checked += 1
            self._next += 1
        return None

    def chunk(self, rows: Sequence[LeafRow]) -> VerifyFailure | None:
        """Check ``rows`` at once; ``_ROW_BY_ROW`` (nothing changed) if any row fails a check."""
        start, n = self.expected, len(rows)
        hashes = self._sound(start, rows)
        if hashes is None:
            return _ROW_BY_ROW
        # Every row is sound: grow the tree up to each head signed inside the chunk, and check it.
        done = 0
        heads = self._heads
        while self._next < len(heads) and heads[self._next].tree_size <= start + n:
            cut = heads[self._next].tree_size - start
            self.compact.extend(hashes[done:cut])
            done, self.expected = cut, start + cut
            failure = self.heads_at(self.expected)
            if failure is not None:
                return failure
        self.compact.extend(hashes[done:])
        self.expected = start + n
        return None

    def _sound(self, start: int, rows: Sequence[LeafRow]) -> list[bytes] | None:
        """The leaf hashes of ``rows`` if every one passes every check, else None."""
        if not rows:
            return []
        seqs, leaves, stored, seals = zip(*rows, strict=True)
        if seqs != tuple(range(start, start + len(rows))):
            return None
        sha256 = hashlib.sha256
        try:
            hashes = [sha256(b"\x00" + leaf).digest() for leaf in leaves]
        except TypeError:  # a column no longer holds binary data
            return None
        if hashes != list(stored):
            return None
        sealed = self.sealer is None or self.sealer.many(hashes) == list(seals)
        pack = HEADER.pack
        numbered = [leaf[:HEADER_SIZE] for leaf in leaves] == [pack(LEAF_VERSION, seq) for seq in seqs]
        return hashes if sealed and numbered else None

    def rows(self, rows: Sequence[LeafRow]) -> VerifyFailure | None:
        """Check ``rows`` one at a time, returning the first failure."""
        sha256 = hashlib.sha256
        for seq, leaf, stored_hash, seal in rows:
            expected = self.expected
            if seq < expected:  # only a negative number sorts before 0: never written by the log
                self.stray = seq if self.stray is None else self.stray
                continue
            if seq != expected:
                return _missing(expected, seq)
            try:
                h = sha256(b"\x00" + leaf).digest()
            except TypeError:  # the column no longer holds binary data
                h = b""
            if h != stored_hash:
                return VerifyFailure(
                    problem=Problem.ALTERED,
                    seq=seq,
                    message=f"entry {seq} was altered: its bytes no longer hash to its leaf hash",
                )
            if self.sealer is not None and self.sealer(h) != seal:
                return VerifyFailure(
                    problem=Problem.SEAL_INVALID,
                    seq=seq,
                    message=f"entry {seq} was altered or forged: its seal does not match its leaf hash "
                    "(written by someone without the installation key)",
                )
            if leaf[0] != LEAF_VERSION or int.from_bytes(leaf[1:HEADER_SIZE], "big") != seq:
                return VerifyFailure(
                    problem=Problem.REORDERED,
                    seq=seq,
                    message=f"entry {seq} holds the leaf written as entry {leaf_seq(leaf)}: "
                    "rows were reordered, or one was inserted and the rest renumbered",
                )
            self.compact.append(h)
            self.expected = expected + 1
            failure = self.heads_at(self.expected)
            if failure is not None:
                return failure
        return None


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
