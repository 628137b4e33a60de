"""Trusting an external OpenID Connect provider: its JWKS fetched over HTTP, cached, refreshed on rotation."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from polestar.security import AuthenticationFailed, RemoteJwks, SecurityConfig, TokenVerifier
from polestar.sims.serving import serve

ISSUER = "https://idp.force.example"


class Provider:
    """A tiny identity provider: signs tokens, publishes its current keys at /jwks."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.requests = 0
        self.rotate("key-1")

    def rotate(self, kid: str) -> None:
        self.keys = {kid: rsa.generate_private_key(public_exponent=65537, key_size=2048)}

    def token(self, kid: str, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": "polestar-api", "sub": "user:pc1234", "iat": now, "exp": now + 300}
        body.update(groups=["officer"], marking="OFFICIAL-SENSITIVE", **claims)
        return jwt.encode(body, self.keys[kid], algorithm="RS256", headers={"kid": kid})

    def app(self) -> Starlette:
        async def jwks(_: Any) -> JSONResponse:
            self.requests += 1
            keys = []
            for kid, key in self.keys.items():
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
                keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
            return JSONResponse({"keys": keys})

        return Starlette(routes=[Route("/jwks", jwks)])


def _verifier(url: str, **oidc: Any) -> TokenVerifier:
    config = SecurityConfig(
        oidc={
            "issuer": ISSUER,
            "jwks_url": f"{url}/jwks",
            "roles_claim": "groups",
            "clearance_claim": "marking",
            "min_refresh_seconds": 0,
            **oidc,
        }
    )
    assert config.oidc is not None
    remote = RemoteJwks(
        str(config.oidc.jwks_url),
        cache_seconds=config.oidc.cache_seconds,
        min_refresh_seconds=config.oidc.min_refresh_seconds,
    )
    return TokenVerifier(config, local=None, remote=remote)


async def test_a_providers_token_is_verified_with_its_published_keys_and_claims_mapped() -> None:
    provider = Provider()
    async with serve(provider.app()) as url:
        verifier = _verifier(url)
        principal = await verifier.verify(provider.token("key-1"))
        await verifier.verify(provider.token("key-1"))
    assert principal.issuer == ISSUER
    assert principal.roles == {"officer"}
    assert principal.clearance.label == "OFFICIAL-SENSITIVE"
    assert provider.requests == 1  # cached


async def test_a_rotated_key_is_fetched_when_a_token_names_an_unknown_kid() -> None:
    provider = Provider()
    async with serve(provider.app()) as url:
        verifier = _verifier(url)
        await verifier.verify(provider.token("key-1"))
        provider.rotate("key-2")
        principal = await verifier.verify(provider.token("key-2"))
    assert principal.subject == "user:pc1234"
    assert provider.requests == 2


async def test_unknown_kids_do_not_make_the_hub_hammer_the_provider() -> None:
    provider = Provider()
    async with serve(provider.app()) as url:
        verifier = _verifier(url, min_refresh_seconds=60)
        await verifier.verify(provider.token("key-1"))
        forged = provider.token("key-1").split(".")
        header = jwt.utils.base64url_encode(json.dumps({"alg": "RS256", "kid": "made-up"}).encode()).decode()
        for _ in range(5):
            with pytest.raises(AuthenticationFailed, match="does not publish"):
                await verifier.verify(".".join([header, *forged[1:]]))
    assert provider.requests == 1


async def test_a_provider_token_for_another_audience_or_expired_is_refused() -> None:
    provider = Provider()
    async with serve(provider.app()) as url:
        verifier = _verifier(url)
        with pytest.raises(AuthenticationFailed, match="audience"):
            await verifier.verify(provider.token("key-1", aud="other-api"))
        with pytest.raises(AuthenticationFailed, match="expired"):
            await verifier.verify(provider.token("key-1", exp=int(time.time()) - 600))


async def test_an_unreachable_provider_refuses_with_the_reason() -> None:
    provider = Provider()
    async with serve(provider.app()) as url:
        token = provider.token("key-1")
    verifier = _verifier(url)  # the server has stopped
    with pytest.raises(AuthenticationFailed, match="cannot fetch the provider's keys"):
        await verifier.verify(token)


def test_symmetric_algorithms_cannot_be_configured_for_a_provider() -> None:
    with pytest.raises(ValueError, match="only asymmetric"):
        SecurityConfig(oidc={"issuer": ISSUER, "jwks_url": "https://idp/jwks", "algorithms": ["HS256"]})
