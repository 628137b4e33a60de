"""OAuth2 client credentials for systems: secrets are kept only as scrypt hashes.

``hash_secret`` makes the value a force puts in ``security.clients[].secret_hash``
(or in the environment variable or file it names); ``ClientRegistry`` checks a
presented secret against it in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from polestar.security.config import ClientConfig
from polestar.security.errors import ClientRefused, SecurityError
from polestar.security.secrets import SecretRef

_N, _R, _P = 2**14, 8, 1
MAX_SECRET_LENGTH = 512


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$SALT$HASH`` for ``secret``: what a force stores instead of the secret."""
    if not secret or len(secret) > MAX_SECRET_LENGTH:
        raise SecurityError(f"a client secret must be 1 to {MAX_SECRET_LENGTH} characters")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when ``secret`` hashes to ``stored`` (a malformed ``stored`` never matches)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or len(secret) > MAX_SECRET_LENGTH:
            return False
        # Bounds keep a hostile hash from asking scrypt for gigabytes.
        cost, block, par = int(n), int(r), int(p)
        if not (2 <= cost <= 2**20 and 1 <= block <= 16 and 1 <= par <= 4):
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            secret.encode(), salt=_unb64(salt), n=cost, r=block, p=par, dklen=len(expected), maxmem=2**27
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True)
class RegisteredClient:
    """A configured client with its stored hash resolved."""

    config: ClientConfig
    secret_hash: str

    @property
    def subject(self) -> str:
        """The identity its tokens carry."""
        return self.config.subject or f"system:{self.config.id}"


class ClientRegistry:
    """The systems allowed the client-credentials grant, by client id."""

    def __init__(self, clients: list[ClientConfig]) -> None:
        self._configs = {c.id: c for c in clients}
        self._resolved: dict[str, RegisteredClient] = {}

    def resolve(self) -> None:
        """Read every hash now (at start), so a missing secret file is reported at once."""
        for client_id in self._configs:
            self._client(client_id)

    def _client(self, client_id: str) -> RegisteredClient:
        if client_id not in self._resolved:
            config = self._configs[client_id]
            stored = config.secret_hash
            value = stored.read() if isinstance(stored, SecretRef) else stored
            if not value.startswith("scrypt$"):
                raise SecurityError(
                    f"security.clients[{client_id}].secret_hash is not a scrypt hash "
                    "(make one with polestar token hash-secret)"
                )
            self._resolved[client_id] = RegisteredClient(config, value)
        return self._resolved[client_id]

    def authenticate(self, client_id: str, secret: str) -> RegisteredClient:
        """The client, when ``secret`` is its secret; ``ClientRefused`` otherwise (never says which)."""
        if client_id not in self._configs:
            # Hash anyway so an unknown id takes as long as a wrong secret.
            verify_secret(secret, _DUMMY)
            raise ClientRefused("unknown client or wrong secret")
        client = self._client(client_id)
        if not verify_secret(secret, client.secret_hash):
            raise ClientRefused("unknown client or wrong secret")
        return client


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_DUMMY = hash_secret("not-a-client", salt=b"polestar-dummy!!")
