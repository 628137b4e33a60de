"""Bearer tokens: JWTs with asymmetric signatures, issued by the hub or by a trusted OIDC provider.

Every token is checked for its signature, issuer, audience, expiry (with a
small clock skew) and the claims a ``Principal`` needs. The hub's own tokens
are EdDSA (Ed25519) signed by ``SigningKeys``; a provider's are verified with
the keys its JWKS publishes (``RemoteJwks``).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from pydantic import ValidationError

from polestar.model.marking import ProtectiveMarking
from polestar.security.config import SecurityConfig
from polestar.security.errors import AuthenticationFailed, SecurityError
from polestar.security.keys import ALGORITHM, SigningKeys
from polestar.security.oidc import RemoteJwks
from polestar.security.principal import Principal

if TYPE_CHECKING:
    from polestar.config import HubConfig

MAX_TOKEN_BYTES = 8192
"""Longer bearer tokens are refused before any parsing."""
VERIFIED_CACHE_SIZE = 10_000
_JWS = jwt.PyJWS()
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]


def mint(
    keys: SigningKeys,
    *,
    issuer: str,
    audience: str,
    subject: str,
    roles: Iterable[str] = (),
    clearance: str = "OFFICIAL",
    ttl: float = 3600,
    client_id: str | None = None,
    device: str | None = None,
    now: datetime | None = None,
) -> str:
    """A signed token for ``subject`` living ``ttl`` seconds (the clearance label is checked first)."""
    label = ProtectiveMarking.parse(clearance).label
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=ttl)).timestamp()),
        "jti": str(uuid.uuid4()),
        "roles": sorted(set(roles)),
        "clearance": label,
    }
    if client_id is not None:
        claims["client_id"] = client_id
    if device is not None:
        claims["device"] = device
    return jwt.encode(claims, keys.private_key, algorithm=ALGORITHM, headers={"kid": keys.kid})


def issue_token(
    config: HubConfig,
    *,
    subject: str,
    roles: Iterable[str] = (),
    clearance: str = "OFFICIAL",
    ttl: float = 3600,
    device: str | None = None,
) -> str:
    """A token the hub running ``config`` accepts, signed by the keys in its data folder (made if absent).

    For ``polestar token issue``, test harnesses and the demo: ``Force.token``.
    """
    security = config.security
    if ttl <= 0 or ttl > security.max_token_ttl:
        raise SecurityError(f"ttl must be between 1 and {security.max_token_ttl} seconds, not {ttl}")
    keys = SigningKeys.load_or_create(config.data_dir)
    return mint(
        keys,
        issuer=security.issuer,
        audience=security.audience,
        subject=subject,
        roles=roles,
        clearance=clearance,
        ttl=ttl,
        device=device,
    )


class TokenVerifier:
    """Checks bearer tokens against the hub's own keys and, if configured, an OIDC provider's."""

    def __init__(
        self, config: SecurityConfig, *, local: SigningKeys | None, remote: RemoteJwks | None = None
    ) -> None:
        self.config = config
        self.local = local
        self.remote = remote
        self._leeway = timedelta(seconds=config.clock_skew_seconds)
        self._verified: dict[bytes, Principal] = {}
        """Tokens whose signature and claims were verified, oldest first (devices reuse theirs)."""

    async def verify(self, token: str) -> Principal:
        """The principal the token proves, or ``AuthenticationFailed`` saying what is wrong with it."""
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthenticationFailed(f"the token is longer than {MAX_TOKEN_BYTES} bytes")
        digest = hashlib.sha256(token.encode()).digest()
        cached = self._verified.get(digest)
        if cached is not None:
            # Verified before: only its lifetime can have changed since.
            if cached.expires_at is not None and datetime.now(UTC) > cached.expires_at + self._leeway:
                del self._verified[digest]
                raise AuthenticationFailed("the token has expired")
            return cached
        principal = await self._verify(token)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        self._verified[digest] = principal
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            unverified_jws = _JWS.decode_complete(token, options={"verify_signature": False})
            header = unverified_jws["header"]
            unverified = json.loads(unverified_jws["payload"])
        except (jwt.PyJWTError, ValueError):
            raise AuthenticationFailed("the bearer token is not a well-formed JWT") from None
        if not isinstance(header, dict) or not isinstance(unverified, dict):
            raise AuthenticationFailed("the bearer token is not a well-formed JWT")
        issuer = unverified.get("iss")
        kid = header.get("kid")
        oidc = self.config.oidc
        if self.local is not None and issuer == self.config.issuer:
            key: Any = self.local.public_key
            algorithms, audience = [ALGORITHM], self.config.audience
            if kid is not None and kid != self.local.kid:
                raise AuthenticationFailed("the token was signed by a key this hub does not know")
        elif self.remote is not None and oidc is not None and issuer == oidc.issuer:
            if not isinstance(kid, str):
                raise AuthenticationFailed("the provider's token names no key (kid)")
            key = await self.remote.key(kid)
            algorithms, audience = list(oidc.algorithms), oidc.audience or self.config.audience
        else:
            raise AuthenticationFailed(f"tokens from issuer {str(issuer)[:100]!r} are not trusted here")
        if header.get("alg") not in algorithms:
            raise AuthenticationFailed(
                f"the token's algorithm {str(header.get('alg'))[:20]!r} is not accepted"
            )
        claims = _decode(
            token,
            key,
            algorithms,
            audience=audience,
            issuer=str(issuer),
            leeway=self.config.clock_skew_seconds,
        )
        return _principal(claims, self.config)


def _decode(token: str, key: Any, algorithms: list[str], *, audience: str, issuer: str, leeway: int) -> Any:
    try:
        return jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise AuthenticationFailed("the token is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise AuthenticationFailed(f"the token is not for this hub (audience must be {audience!r})") from None
    except jwt.InvalidSignatureError:
        raise AuthenticationFailed("the token's signature does not verify") from None
    except jwt.MissingRequiredClaimError as exc:
        raise AuthenticationFailed(f"the token lacks the {exc.claim!r} claim") from None
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed(f"the token is invalid: {exc}") from None


def _principal(claims: dict[str, Any], config: SecurityConfig) -> Principal:
    roles_claim = config.oidc.roles_claim if config.oidc and claims["iss"] == config.oidc.issuer else "roles"
    clearance_claim = (
        config.oidc.clearance_claim if config.oidc and claims["iss"] == config.oidc.issuer else "clearance"
    )
    roles = claims.get(roles_claim, [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise AuthenticationFailed(f"the token's {roles_claim!r} claim must be a list of role names")
    label = claims.get(clearance_claim, "OFFICIAL")
    try:
        clearance = ProtectiveMarking.parse(label) if isinstance(label, str) else None
    except ValueError:
        clearance = None
    if clearance is None:
        raise AuthenticationFailed(f"the token's {clearance_claim!r} claim is not a protective marking")
    subject = str(claims["sub"])
    device = claims.get("device")
    if device is None and subject.startswith("device:"):
        # A device's own token is bound to it, when its id is one the gateway can name.
        named = subject.split(":", 1)[1]
        device = named if DEVICE_ID.match(named) else None
    if device is not None and not isinstance(device, str):
        raise AuthenticationFailed("the token's 'device' claim must be a device id")
    try:
        return Principal(
            subject=subject,
            roles=frozenset(roles),
            clearance=clearance,
            issuer=str(claims["iss"]),
            client_id=claims.get("client_id") if isinstance(claims.get("client_id"), str) else None,
            token_id=claims.get("jti") if isinstance(claims.get("jti"), str) else None,
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            device=device,
        )
    except (ValidationError, ValueError, TypeError, OverflowError):
        raise AuthenticationFailed("the token's subject, device or expiry is not acceptable") from None
