"""The embedded issuer's signing keys: Ed25519, kept in ``DATA_DIR/security``, created on first use.

The private key file is written with mode 0600 (owner only) before any byte
of it is; the public half is published at ``/.well-known/jwks.json`` so any
system can verify the hub's tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from polestar.security.errors import SecurityError

KEY_FOLDER = "security"
PRIVATE_KEY_FILE = "token-signing-key.pem"
ALGORITHM = "EdDSA"


@dataclass(frozen=True)
class SigningKeys:
    """The private key tokens are signed with, its public half and its key id (RFC 7638 thumbprint)."""

    private_key: Ed25519PrivateKey
    kid: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, for verification."""
        return self.private_key.public_key()

    @classmethod
    def generate(cls) -> SigningKeys:
        """A fresh key pair (tests; ``load_or_create`` for a hub)."""
        key = Ed25519PrivateKey.generate()
        return cls(key, _thumbprint(key.public_key()))

    @classmethod
    def load_or_create(cls, data_dir: Path) -> SigningKeys:
        """The keys under ``data_dir``, created (mode 0600) if there are none yet."""
        path = data_dir / KEY_FOLDER / PRIVATE_KEY_FILE
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                # O_EXCL: two processes creating at once must not both win; the loser reads the winner's.
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(pem)
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> SigningKeys:
        """Read a PEM private key; ``SecurityError`` naming the file if it is not an Ed25519 key."""
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise SecurityError(f"{path}: cannot read the token signing key: {exc}") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SecurityError(f"{path}: the token signing key must be Ed25519")
        return cls(key, _thumbprint(key.public_key()))

    def jwk(self) -> dict[str, Any]:
        """The public key as a JWK."""
        return {**_okp(self.public_key), "kid": self.kid, "alg": ALGORITHM, "use": "sig"}

    def jwks(self) -> dict[str, Any]:
        """The JWK Set published at ``/.well-known/jwks.json``."""
        return {"keys": [self.jwk()]}


def _okp(public: Ed25519PublicKey) -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}


def _thumbprint(public: Ed25519PublicKey) -> str:
    # RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace.
    canonical = json.dumps(_okp(public), sort_keys=True, separators=(",", ":")).encode()
    return _b64(hashlib.sha256(canonical).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
