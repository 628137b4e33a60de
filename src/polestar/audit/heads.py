"""Signed tree heads: a log's size and root, signed with Ed25519 as RFC 6962 §3.5 lays them out.

The signed bytes are RFC 6962's ``TreeHeadSignature``: version ``v1`` (0),
signature type ``tree_hash`` (1), the timestamp in milliseconds, the tree size
and the SHA-256 root, so any CT tooling can check them with the public key.
"""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from polestar.audit.keys import AuditKeys
from polestar.model.timeutil import utcnow

_TBS = struct.Struct(">BBQQ")


def to_be_signed(timestamp_ms: int, tree_size: int, root: bytes) -> bytes:
    """The RFC 6962 ``TreeHeadSignature`` structure."""
    return _TBS.pack(0, 1, timestamp_ms, tree_size) + root


class SignedTreeHead(BaseModel):
    """The log's size and root at one moment, signed: what witnesses keep and proofs refer to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tree_size: int = Field(ge=0, description="Entries covered: sequence numbers 0 to tree_size-1.")
    timestamp_ms: int = Field(ge=0, description="When it was signed, milliseconds since 1970 (UTC).")
    root_hash: str = Field(description="Hex SHA-256 Merkle tree root (RFC 6962 MTH).")
    signature: str = Field(description="Base64 Ed25519 signature of the RFC 6962 TreeHeadSignature.")
    log_id: str = Field(description="Hex SHA-256 of the log's public key (DER).")
    checkpoint: bool = Field(default=False, description="Kept for good and sent to witnesses.")

    @property
    def root(self) -> bytes:
        """The root as bytes."""
        return bytes.fromhex(self.root_hash)

    @property
    def signed_at(self) -> datetime:
        """The timestamp as a UTC time."""
        return datetime.fromtimestamp(self.timestamp_ms / 1000, UTC)

    def signature_valid(self, public_key: Ed25519PublicKey) -> bool:
        """True when the signature over size, time and root checks out under ``public_key``."""
        try:
            public_key.verify(
                base64.b64decode(self.signature), to_be_signed(self.timestamp_ms, self.tree_size, self.root)
            )
        except (InvalidSignature, ValueError):
            return False
        return True


def sign_head(
    keys: AuditKeys, tree_size: int, root: bytes, *, timestamp_ms: int | None = None
) -> SignedTreeHead:
    """A head for ``tree_size`` and ``root``, signed now."""
    ts = timestamp_ms if timestamp_ms is not None else int(utcnow().timestamp() * 1000)
    key: Ed25519PrivateKey = keys.signing_key
    return SignedTreeHead(
        tree_size=tree_size,
        timestamp_ms=ts,
        root_hash=root.hex(),
        signature=base64.b64encode(key.sign(to_be_signed(ts, tree_size, root))).decode(),
        log_id=keys.log_id.hex(),
    )
