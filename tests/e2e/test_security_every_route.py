"""Deny by default: every API route refuses a missing, expired, forged or misaddressed token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from polestar.api import create_app
from polestar.config import HubConfig
from polestar.security import SigningKeys, mint
from polestar.security.testing import auth_headers
from polestar.security.web import PUBLIC_PATHS

PROBES_AND_KEYS = {"/health", "/ready", "/.well-known/jwks.json", "/oauth/token"}


def _config(tmp_path: Path) -> HubConfig:
    folder = tmp_path / "integration"
    for part in ("connectors", "mappings", "routes"):
        (folder / part).mkdir(parents=True)
    return HubConfig(data_dir=tmp_path / "data", integration_dir=folder)


def _operations(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = []
    for route in iter_route_contexts(app.routes):  # included routers flattened
        methods = getattr(route, "methods", None) or {"GET"}
        path = re.sub(r"\{[^}]+\}", "x", route.path)
        found.extend((method, path) for method in sorted(methods) if method != "HEAD")
    return found


def _bad_tokens(config: HubConfig) -> dict[str, str]:
    hub_keys = SigningKeys.load_or_create(config.data_dir)
    forger = SigningKeys(SigningKeys.generate().private_key, hub_keys.kid)  # the hub's kid, another key
    claims = {"issuer": "polestar", "subject": "user:pc1234", "roles": ["admin"], "clearance": "TOP SECRET"}
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    return {
        "missing": "",
        "expired": mint(hub_keys, audience="polestar-api", ttl=60, now=long_ago, **claims),
        "wrongly signed": mint(forger, audience="polestar-api", ttl=600, **claims),
        "wrong audience": mint(hub_keys, audience="some-other-api", ttl=600, **claims),
        "not a jwt": "not-a-token",
    }


async def test_every_route_refuses_a_missing_expired_forged_or_misaddressed_token(tmp_path: Path) -> None:
    config = _config(tmp_path)
    app = create_app(config)
    operations = _operations(app)
    assert len(operations) > 10
    assert {path for _, path in operations} >= {"/bus/stats", "/routes", "/ingest/x", "/soap/x", "/"}
    bad = _bad_tokens(config)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        for method, path in operations:
            if path in PUBLIC_PATHS:
                continue
            for kind, token in bad.items():
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                answer = await client.request(method, path, headers=headers, json={})
                assert answer.status_code == 401, f"{method} {path} with a {kind} token: {answer.status_code}"
                assert answer.headers["content-type"] == "application/problem+json"
                assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_only_the_probes_the_keys_and_the_token_endpoint_are_public(tmp_path: Path) -> None:
    config = _config(tmp_path)
    app = create_app(config)
    assert PUBLIC_PATHS == PROBES_AND_KEYS
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/ready")).status_code in {200, 503}
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
        assert [(k["kty"], k["crv"], k["alg"]) for k in keys] == [("OKP", "Ed25519", "EdDSA")]
        assert (await client.get("/openapi.json")).status_code == 401
        assert (await client.get("/docs")).status_code == 401


@pytest.mark.parametrize("path", ["/health", "/bus/stats", "/no/such/route", "/openapi.json"])
async def test_every_response_carries_the_security_headers(tmp_path: Path, path: str) -> None:
    config = _config(tmp_path)
    app = create_app(config)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        for headers in ({}, auth_headers(config)):
            answer = await client.get(path, headers=headers)
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["referrer-policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
            assert answer.headers["cache-control"] == "no-store"
