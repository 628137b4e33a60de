"""Bearer tokens: signature, issuer, audience, expiry and claims are all checked."""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from polestar.config import HubConfig
from polestar.security import (
    AuthenticationFailed,
    SecurityConfig,
    SecurityError,
    SigningKeys,
    TokenVerifier,
    issue_token,
    mint,
)

CLAIMS = {"issuer": "polestar", "audience": "polestar-api", "subject": "user:pc1234"}


@pytest.fixture
def keys() -> SigningKeys:
    return SigningKeys.generate()


@pytest.fixture
def verifier(keys: SigningKeys) -> TokenVerifier:
    return TokenVerifier(SecurityConfig(), local=keys)


async def test_a_valid_token_gives_the_principal_its_roles_and_clearance(keys, verifier) -> None:
    token = mint(keys, roles=["officer", "officer"], clearance="OFFICIAL-SENSITIVE [PERSONAL]", **CLAIMS)
    principal = await verifier.verify(token)
    assert principal.subject == "user:pc1234"
    assert principal.roles == {"officer"}
    assert principal.clearance.label == "OFFICIAL-SENSITIVE [PERSONAL]"
    assert principal.kind == "user"
    assert principal.expires_at is not None


async def test_an_expired_token_is_refused(keys, verifier) -> None:
    token = mint(keys, ttl=60, now=datetime.now(UTC) - timedelta(minutes=5), **CLAIMS)
    with pytest.raises(AuthenticationFailed, match="expired"):
        await verifier.verify(token)


async def test_a_token_just_past_expiry_is_accepted_within_the_clock_skew(keys, verifier) -> None:
    token = mint(keys, ttl=60, now=datetime.now(UTC) - timedelta(seconds=75), **CLAIMS)
    assert (await verifier.verify(token)).subject == "user:pc1234"


async def test_a_token_signed_by_another_key_is_refused(keys, verifier) -> None:
    forger = SigningKeys(SigningKeys.generate().private_key, keys.kid)
    with pytest.raises(AuthenticationFailed, match="signature"):
        await verifier.verify(mint(forger, **CLAIMS))
    with pytest.raises(AuthenticationFailed, match="key this hub does not know"):
        await verifier.verify(mint(SigningKeys.generate(), **CLAIMS))


async def test_a_token_for_another_audience_or_issuer_is_refused(keys, verifier) -> None:
    with pytest.raises(AuthenticationFailed, match="audience"):
        await verifier.verify(mint(keys, **{**CLAIMS, "audience": "cad-api"}))
    with pytest.raises(AuthenticationFailed, match="not trusted"):
        await verifier.verify(mint(keys, **{**CLAIMS, "issuer": "someone-else"}))


async def test_unsigned_and_symmetric_tokens_are_refused(keys, verifier) -> None:
    claims = {"iss": "polestar", "aud": "polestar-api", "sub": "user:x", "exp": 2**33, "iat": 0}
    unsigned = jwt.encode(claims, None, algorithm="none")
    with pytest.raises(AuthenticationFailed, match="algorithm"):
        await verifier.verify(unsigned)
    hmac = jwt.encode(claims, "a-guessable-shared-secret-of-32-bytes!", algorithm="HS256")
    with pytest.raises(AuthenticationFailed, match="algorithm"):
        await verifier.verify(hmac)


async def test_a_token_missing_a_claim_or_with_a_bad_clearance_is_refused(keys, verifier) -> None:
    no_exp = jwt.encode(
        {"iss": "polestar", "aud": "polestar-api", "sub": "user:x", "iat": 0},
        keys.private_key,
        algorithm="EdDSA",
        headers={"kid": keys.kid},
    )
    with pytest.raises(AuthenticationFailed, match="'exp'"):
        await verifier.verify(no_exp)
    bad = jwt.encode(
        {
            "iss": "polestar",
            "aud": "polestar-api",
            "sub": "user:x",
            "iat": 0,
            "exp": 2**33,
            "clearance": "PUBLIC",
        },
        keys.private_key,
        algorithm="EdDSA",
        headers={"kid": keys.kid},
    )
    with pytest.raises(AuthenticationFailed, match="protective marking"):
        await verifier.verify(bad)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 9000])
async def test_garbage_is_refused_with_a_reason(verifier, garbage) -> None:
    with pytest.raises(AuthenticationFailed):
        await verifier.verify(garbage)


def test_the_signing_key_is_created_once_owner_only(tmp_path) -> None:
    config = HubConfig(data_dir=tmp_path)
    issue_token(config, subject="user:pc1234")
    key_file = tmp_path / "security" / "token-signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = SigningKeys.load_or_create(tmp_path).kid
    issue_token(config, subject="user:pc1234")
    assert SigningKeys.load_or_create(tmp_path).kid == first


def test_issue_token_refuses_a_ttl_beyond_the_maximum_and_a_bad_clearance(tmp_path) -> None:
    config = HubConfig(data_dir=tmp_path)
    with pytest.raises(SecurityError, match="ttl"):
        issue_token(config, subject="user:pc1234", ttl=10**9)
    with pytest.raises(ValueError, match="protective marking"):
        issue_token(config, subject="user:pc1234", clearance="RESTRICTED")


def test_a_signing_key_that_is_not_ed25519_is_refused(tmp_path) -> None:
    path = tmp_path / "key.pem"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)
    with pytest.raises(SecurityError, match="Ed25519"):
        SigningKeys.load(path)


async def test_a_token_verified_once_is_still_refused_once_it_expires(keys) -> None:
    verifier = TokenVerifier(SecurityConfig(clock_skew_seconds=0), local=keys)
    token = mint(keys, ttl=1, **CLAIMS)
    assert (await verifier.verify(token)).subject == "user:pc1234"
    assert (await verifier.verify(token)).subject == "user:pc1234"  # from the cache
    await asyncio.sleep(2.1)
    with pytest.raises(AuthenticationFailed, match="expired"):
        await verifier.verify(token)
