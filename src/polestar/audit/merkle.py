"""The RFC 6962 / RFC 9162 Merkle tree: hashes, a streaming compact range, proofs and their verifiers.

Leaf hash ``SHA-256(0x00 || leaf)``, interior node ``SHA-256(0x01 || left || right)``;
the tree over ``n`` leaves splits at the largest power of two below ``n``
(RFC 6962 §2.1). ``CompactRange`` keeps only the O(log n) roots of the perfect
subtrees seen so far, so a root over any number of leaves is computed while
streaming them. Proofs are built from subtree roots supplied by a callable, so
the caller decides where leaf hashes come from (a store, a list, a cache).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH of the empty tree (RFC 6962 §2.1): the hash of the empty string."""

_sha256 = hashlib.sha256


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)``."""
    return _sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees covering leaves ``[0, size)``: at most log2(size)+1 hashes."""

    __slots__ = ("_peaks", "size")

    def __init__(self, size: int = 0, peaks: Sequence[bytes] = ()) -> None:
        if len(peaks) != size.bit_count():
            raise ValueError(f"a compact range of size {size} has {size.bit_count()} peaks, not {len(peaks)}")
        self.size = size
        self._peaks = list(peaks)

    @property
    def peaks(self) -> tuple[bytes, ...]:
        """The subtree roots, largest (leftmost) first."""
        return tuple(self._peaks)

    def append(self, hashed_leaf: bytes) -> None:
        """Add one leaf hash on the right."""
        peaks = self._peaks
        peaks.append(hashed_leaf)
        n = self.size
        while n & 1:
            right = peaks.pop()
            peaks[-1] = _sha256(b"\x01" + peaks[-1] + right).digest()
            n >>= 1
        self.size += 1

    def extend(self, hashed_leaves: Iterable[bytes]) -> None:
        """Add leaf hashes on the right, in order (as ``append`` one by one, but level by level).

        The leaves are cut into the largest perfect subtrees aligned in the whole tree, each
        hashed a level at a time over a list (one comprehension per level, not a call per
        node), and each root is then added like one leaf of its height.
        """
        leaves = hashed_leaves if isinstance(hashed_leaves, list) else list(hashed_leaves)
        done, total = 0, len(leaves)
        while done < total:
            size = self.size
            width = size & -size if size else 1 << (total - done).bit_length()
            while width > total - done:
                width >>= 1
            self._add_subtree(perfect_root(leaves[done : done + width]), width)
            done += width

    def _add_subtree(self, root: bytes, width: int) -> None:
        # ``size`` is a multiple of ``width`` (a power of two): the new root merges upwards with
        # the peaks of its own height and above, exactly as one leaf does with height 0.
        peaks = self._peaks
        peaks.append(root)
        n = self.size // width
        while n & 1:
            right = peaks.pop()
            peaks[-1] = _sha256(b"\x01" + peaks[-1] + right).digest()
            n >>= 1
        self.size += width

    def root(self) -> bytes:
        """MTH of the leaves so far (the right-to-left fold of the peaks)."""
        if not self._peaks:
            return EMPTY_ROOT
        it = reversed(self._peaks)
        acc = next(it)
        for peak in it:
            acc = _sha256(b"\x01" + peak + acc).digest()
        return acc

    def copy(self) -> CompactRange:
        """An independent copy."""
        return CompactRange(self.size, self._peaks)

    def to_bytes(self) -> bytes:
        """The peaks concatenated (stored beside a tree head to resume appending)."""
        return b"".join(self._peaks)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        """Inverse of ``to_bytes``."""
        peaks = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return cls(size, peaks)


def perfect_root(hashed_leaves: Sequence[bytes]) -> bytes:
    """MTH of a perfect tree (``len`` a power of two), computed a level at a time."""
    level = list(hashed_leaves)
    if not level or len(level) & (len(level) - 1):
        raise ValueError(f"a perfect tree has a power of two leaves, not {len(level)}")
    sha256 = _sha256
    while len(level) > 1:
        pairs = iter(level)
        level = [sha256(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
    return level[0]


def root_of(hashed_leaves: Iterable[bytes]) -> bytes:
    """MTH over leaf hashes."""
    compact = CompactRange()
    compact.extend(hashed_leaves)
    return compact.root()


SubtreeRoot = Callable[[int, int], bytes]
"""``(start, end) -> MTH(D[start:end])``; proofs only ask for ranges of the RFC's tree shape."""


class SubtreeHasher:
    """Subtree roots over a list of leaf hashes, memoised (a tree's ranges never change)."""

    def __init__(self, hashed_leaves: Sequence[bytes]) -> None:
        self._leaves = hashed_leaves
        self._memo: dict[tuple[int, int], bytes] = {}

    def __call__(self, start: int, end: int) -> bytes:
        """MTH(D[start:end])."""
        n = end - start
        if n == 1:
            return self._leaves[start]
        if n <= 0:
            return EMPTY_ROOT
        key = (start, end)
        found = self._memo.get(key)
        if found is None:
            k = split_point(n)
            found = node_hash(self(start, start + k), self(start + k, end))
            self._memo[key] = found
        return found


def inclusion_path(index: int, size: int, subtree: SubtreeRoot) -> list[bytes]:
    """PATH(index, D[size]) of RFC 6962 §2.1.1: the audit path, bottom first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_path(first: int, second: int, subtree: SubtreeRoot) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 6962 §2.1.2; empty when ``first`` is 0 or equals ``second``."""
    if not 0 <= first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    if first in {0, second}:
        return []
    path: list[bytes] = []
    start, end, m, whole = 0, second, first, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                path.append(subtree(start, end))
            break
        k = split_point(n)
        if m <= k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start, m, whole = start + k, m - k, False
    path.reverse()
    return path


def verify_inclusion(hashed_leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove leaf ``index`` is in the tree of ``size`` with ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, hashed_leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: does ``path`` prove the tree of ``second`` extends the tree of ``first``?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path:
        return False
    proof = list(path)
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root
