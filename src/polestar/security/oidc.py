"""An external OpenID Connect provider's signing keys, fetched from its JWKS URL and cached.

Keys are refetched when the cache is older than ``cache_seconds`` or a token
names a key id the cache lacks (the provider rotated), but no more often than
``min_refresh_seconds`` so that tokens with made-up key ids cannot make the
hub hammer the provider.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt

from polestar.security.errors import AuthenticationFailed

FETCH_TIMEOUT_SECONDS = 5.0


class RemoteJwks:
    """The keys published at ``url``, by key id."""

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float = 300.0,
        min_refresh_seconds: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self._transport = transport
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0
        """How many times the JWKS was fetched (operators and tests watch it)."""

    async def key(self, kid: str) -> Any:
        """The verification key with id ``kid``; refetches once if unknown or stale."""
        now = time.monotonic()
        stale = self._fetched_at is None or now - self._fetched_at > self.cache_seconds
        if kid not in self._keys or stale:
            async with self._lock:
                fetched = self._fetched_at
                due = fetched is None or time.monotonic() - fetched >= self.min_refresh_seconds
                if (kid not in self._keys or stale) and due:
                    try:
                        await self._fetch()
                    except AuthenticationFailed:
                        # Keep what we had: a provider blip must not lock out holders of known keys.
                        if kid not in self._keys:
                            raise
        try:
            return self._keys[kid]
        except KeyError:
            raise AuthenticationFailed(
                "the token was signed by a key the provider does not publish"
            ) from None

    async def _fetch(self) -> None:
        self.fetches += 1
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=FETCH_TIMEOUT_SECONDS) as client:
                answer = await client.get(self.url, headers={"accept": "application/json"})
                answer.raise_for_status()
                document = answer.json()
            keys = jwt.PyJWKSet.from_dict(document)
        except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
            raise AuthenticationFailed(f"cannot fetch the provider's keys from {self.url}: {exc}") from None
        self._keys = {k.key_id: k.key for k in keys.keys if k.key_id}
