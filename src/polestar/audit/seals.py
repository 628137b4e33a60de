"""Seals: HMAC-SHA256 of leaf hashes under the installation's seal key, a batch at a time.

``hmac.digest`` sets the key up again on every call, which costs more than the two
compressions of a 32-byte message. ``Sealer`` hashes the key's inner and outer
padded blocks once (RFC 2104) and copies those states per message; the bytes are
exactly ``hmac.digest(key, message, "sha256")`` (``tests/unit/audit/test_seals.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_BLOCK = 64
"""SHA-256's block size: HMAC pads (or first hashes) the key to this."""


class Sealer:
    """HMAC-SHA256 under one key.

    Args:
        key: the seal key (any length; longer than a block it is hashed first, as RFC 2104 says).
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\x00")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def __call__(self, message: bytes) -> bytes:
        """The seal of one message."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def many(self, messages: Sequence[bytes]) -> list[bytes]:
        """The seal of each message, in order."""
        inner_state, outer_state = self._inner, self._outer
        seals: list[bytes] = []
        append = seals.append
        for message in messages:
            inner = inner_state.copy()
            inner.update(message)
            outer = outer_state.copy()
            outer.update(inner.digest())
            append(outer.digest())
        return seals
