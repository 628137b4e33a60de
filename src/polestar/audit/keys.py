"""The audit log's secrets: the Ed25519 key that signs tree heads, and the installation secret.

Both live in ``<data_dir>/audit/`` (files readable by the hub's user only),
are generated on first start, and must be shared by every hub process of a
cluster (mount the folder, or provision the two files). From the installation
secret three keys are derived, each for one job:

* the **seal** key: an HMAC over each entry's leaf hash, so ``verify`` names the
  exact entry changed even by someone who recomputed its leaf hash;
* the **pseudonym** key: an HMAC of a subject's identifier, the only form in
  which "who looked at this person" is indexed;
* the **general** keys (one per month): encrypt the personal fields of entries
  that name no subject (a query that found nobody).

Per-subject keys are random and kept in the store's subject key table, not
here: erasing a subject deletes its key there.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from polestar.audit.errors import AuditKeysMissing

KEY_FOLDER = "audit"
SIGNING_KEY_FILE = "signing-key.pem"
PUBLIC_KEY_FILE = "signing-key.pub.pem"
SECRET_FILE = "installation.key"
SECRET_SIZE = 32


def _derive(secret: bytes, label: str) -> bytes:
    return hmac.digest(secret, f"polestar-audit/v1/{label}".encode(), "sha256")


@dataclass(frozen=True)
class AuditKeys:
    """The signing key and the keys derived from the installation secret."""

    signing_key: Ed25519PrivateKey
    secret: bytes = field(repr=False)

    @classmethod
    def generate(cls) -> AuditKeys:
        """Fresh keys, in memory only (tests, benchmarks)."""
        return cls(Ed25519PrivateKey.generate(), secrets.token_bytes(SECRET_SIZE))

    @classmethod
    def load(cls, data_dir: Path) -> AuditKeys:
        """Read the keys from ``data_dir/audit``; ``AuditKeysMissing`` if they are not there."""
        folder = data_dir / KEY_FOLDER
        try:
            pem = (folder / SIGNING_KEY_FILE).read_bytes()
            secret = (folder / SECRET_FILE).read_bytes()
        except FileNotFoundError as exc:
            raise AuditKeysMissing(
                f"no audit keys in {folder} ({exc.filename} is missing): the hub creates them when it "
                "first starts; in a cluster every hub process needs the same two files"
            ) from None
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey) or len(secret) != SECRET_SIZE:
            raise AuditKeysMissing(f"the audit keys in {folder} are not an Ed25519 key and a 32-byte secret")
        return cls(key, secret)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> AuditKeys:
        """Read the keys, creating them (mode 0600) on first start."""
        folder = data_dir / KEY_FOLDER
        if (folder / SIGNING_KEY_FILE).exists() or (folder / SECRET_FILE).exists():
            return cls.load(data_dir)
        keys = cls.generate()
        folder.mkdir(parents=True, exist_ok=True)
        pem = keys.signing_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_private(folder / SECRET_FILE, keys.secret)
        _write_private(folder / SIGNING_KEY_FILE, pem)
        (folder / PUBLIC_KEY_FILE).write_bytes(keys.public_key_pem())
        return keys

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The key witnesses and regulators verify tree heads with."""
        return self.signing_key.public_key()

    def public_key_pem(self) -> bytes:
        """The public key as PEM (SubjectPublicKeyInfo)."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @cached_property
    def log_id(self) -> bytes:
        """SHA-256 of the DER public key, as RFC 6962 §3.2 identifies a log."""
        der = self.public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(der).digest()

    @cached_property
    def seal_key(self) -> bytes:
        """HMAC key sealing each leaf hash."""
        return _derive(self.secret, "seal")

    @cached_property
    def pseudonym_key(self) -> bytes:
        """HMAC key turning a subject identifier into its index pseudonym."""
        return _derive(self.secret, "subject-pseudonym")

    def general_key(self, month: str) -> bytes:
        """AES-256 key for personal fields of entries naming no subject, one per ``YYYY-MM``."""
        return _derive(self.secret, f"general/{month}")


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
