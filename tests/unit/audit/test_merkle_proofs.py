"""The Merkle tree against a naive transcription of RFC 6962 §2.1, with hypothesis choosing the trees."""

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from polestar.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    SubtreeHasher,
    consistency_path,
    inclusion_path,
    leaf_hash,
    root_of,
    verify_consistency,
    verify_inclusion,
)

# --- the reference: RFC 6962 §2.1 word for word, on lists of leaves ---------------------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _k(len(d))
    return _h(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    return subproof(m, d, True)


leaves = st.lists(st.binary(max_size=8), min_size=1, max_size=70)


def _hasher(d: list[bytes]) -> SubtreeHasher:
    return SubtreeHasher([leaf_hash(x) for x in d])


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_root_matches_rfc_definition(d):
    assert root_of(leaf_hash(x) for x in d) == mth(d)


@given(leaves, st.data())
def test_inclusion_path_matches_rfc_and_verifies(d, data):
    m = data.draw(st.integers(0, len(d) - 1))
    got = inclusion_path(m, len(d), _hasher(d))
    assert got == path(m, d)
    assert verify_inclusion(leaf_hash(d[m]), m, len(d), got, mth(d))


@given(leaves, st.data())
def test_inclusion_proof_for_another_leaf_or_root_fails(d, data):
    m = data.draw(st.integers(0, len(d) - 1))
    got = inclusion_path(m, len(d), _hasher(d))
    assert not verify_inclusion(leaf_hash(d[m] + b"!"), m, len(d), got, mth(d))
    assert not verify_inclusion(leaf_hash(d[m]), m, len(d), got, _h(b"other"))
    if got:
        bent = [*got[:-1], _h(got[-1])]
        assert not verify_inclusion(leaf_hash(d[m]), m, len(d), bent, mth(d))
    assert not verify_inclusion(leaf_hash(d[m]), m, len(d), [*got, EMPTY_ROOT], mth(d))


@given(leaves, st.data())
def test_consistency_path_matches_rfc_and_verifies(d, data):
    m = data.draw(st.integers(1, len(d)))
    got = consistency_path(m, len(d), _hasher(d))
    assert got == proof(m, d) if m < len(d) else got == []
    assert verify_consistency(m, len(d), mth(d[:m]), mth(d), got)


@given(leaves, st.data())
def test_consistency_with_a_rewritten_prefix_fails(d, data):
    m = data.draw(st.integers(1, len(d)))
    got = consistency_path(m, len(d), _hasher(d))
    rewritten = [b"forged", *d[1:]]
    assert not verify_consistency(m, len(d), mth(rewritten[:m]), mth(d), got)
    if m < len(d):
        assert not verify_consistency(m, len(d), mth(d[:m]), mth([*d, b"x"]), got)


@given(st.lists(st.binary(max_size=4), max_size=70))
def test_compact_range_survives_storage_and_keeps_growing(d):
    compact = CompactRange()
    for i, x in enumerate(d):
        stored = CompactRange.from_bytes(compact.size, compact.to_bytes())
        assert stored.root() == compact.root() == mth(d[:i])
        compact = stored
        compact.append(leaf_hash(x))
    assert compact.root() == mth(d)
    assert len(compact.peaks) == len(d).bit_count()


@given(st.lists(st.binary(max_size=4), max_size=300), st.lists(st.integers(0, 300), max_size=8))
def test_extending_in_pieces_is_appending_one_by_one(d, cuts):
    one_by_one, in_pieces = CompactRange(), CompactRange()
    start = 0
    for cut in [*sorted(cuts), len(d)]:
        piece = [leaf_hash(x) for x in d[start : max(start, cut)]]
        for h in piece:
            one_by_one.append(h)
        in_pieces.extend(piece)
        assert in_pieces.size == one_by_one.size
        assert in_pieces.peaks == one_by_one.peaks
        start = max(start, cut)
    assert in_pieces.root() == mth(d)


def test_empty_tree_and_trivial_proofs():
    assert root_of([]) == EMPTY_ROOT
    assert consistency_path(0, 5, _hasher([b"a"] * 5)) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, b"anything", [])
    assert verify_consistency(3, 3, b"r", b"r", [])
    assert not verify_consistency(3, 3, b"r", b"s", [])
    assert not verify_inclusion(leaf_hash(b"a"), 1, 1, [], leaf_hash(b"a"))
