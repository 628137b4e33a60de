"""What ``polestar.yaml``'s ``security`` section may say: authentication, clients, policy, limits.

Deny by default: authentication is ``required`` unless a test hub turns it
off, every outbound flow needs a data-sharing agreement, and the built-in
policies allow nothing a role does not name.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from polestar.security.secrets import SecretRef

Role = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
"""A role name in lower case, e.g. ``operator`` or ``officer``."""

ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class AuthenticationMode(StrEnum):
    """Whether the API asks every caller for a token."""

    REQUIRED = "required"
    """Every route except the probes, the JWKS and the token endpoint needs a valid bearer token."""
    OFF = "off"
    """Nobody is asked (a throwaway local hub only); callers act as an anonymous operator."""


class AgreementMode(StrEnum):
    """Whether outbound flows are checked against data-sharing agreements."""

    REQUIRED = "required"
    """A flow with no agreement allowing it does not happen: it is dead-lettered and audited."""
    OFF = "off"
    """Nothing is checked (a throwaway local hub only)."""


class ClientConfig(BaseModel):
    """A system allowed the OAuth2 client-credentials grant (``POST /oauth/token``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ClientId = Field(description="The client id the system sends.", examples=["cad"])
    secret_hash: str | SecretRef = Field(
        description=(
            "The secret's scrypt hash (``polestar token hash-secret``), written here or read from "
            "{env: NAME} or {file: PATH}. The secret itself is never stored."
        ),
        examples=["scrypt$16384$8$1$c2FsdA$aGFzaA", {"env": "POLESTAR_CAD_SECRET_HASH"}],
    )
    subject: str | None = Field(
        default=None, max_length=256, description="The identity its tokens carry; default system:ID."
    )
    roles: list[Role] = Field(
        default=["system"], description="Roles its tokens carry.", examples=[["system"]]
    )
    clearance: str = Field(
        default="OFFICIAL",
        description="The highest marking (and caveats) it may receive, e.g. 'OFFICIAL-SENSITIVE [PERSONAL]'.",
        examples=["OFFICIAL-SENSITIVE"],
    )
    token_ttl: int = Field(default=900, ge=30, le=86_400, description="Seconds its tokens live.")


class OidcConfig(BaseModel):
    """An external OpenID Connect provider whose tokens the hub trusts (the cluster profile)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(
        min_length=1,
        description="The provider's issuer (the tokens' iss).",
        examples=["https://idp.force.uk"],
    )
    jwks_url: AnyHttpUrl = Field(
        description="Where its signing keys are published.",
        examples=["https://idp.force.uk/.well-known/jwks.json"],
    )
    audience: str | None = Field(
        default=None, description="The aud its tokens carry; default security.audience."
    )
    algorithms: list[str] = Field(
        default=["RS256", "ES256", "EdDSA"], min_length=1, description="Signature algorithms accepted."
    )
    roles_claim: str = Field(default="roles", description="The claim holding the caller's roles.")
    clearance_claim: str = Field(default="clearance", description="The claim holding the clearance label.")
    cache_seconds: float = Field(
        default=300.0, gt=0, le=86_400, description="How long fetched keys are kept."
    )
    min_refresh_seconds: float = Field(
        default=30.0, ge=0, le=3600, description="Least time between refetches on an unknown key id."
    )

    @model_validator(mode="after")
    def _no_symmetric_algorithms(self) -> Self:
        bad = [a for a in self.algorithms if a not in _ASYMMETRIC]
        if bad:
            raise ValueError(f"only asymmetric algorithms are accepted, not {', '.join(bad)}")
        return self


_ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"})


class RateLimitConfig(BaseModel):
    """Per-client request rate: a token bucket per identity (or per address before one is known)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_second: float = Field(default=100.0, gt=0, le=100_000, description="Sustained rate.")
    burst: int = Field(default=200, ge=1, le=1_000_000, description="Requests allowed at once above it.")


class SecurityConfig(BaseModel):
    """Identity, authorisation, data-sharing agreements and hardening of the API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    authentication: AuthenticationMode = Field(
        default=AuthenticationMode.REQUIRED,
        description="required (default): every API route but the probes needs a bearer token.",
    )
    issuer: str = Field(
        default="polestar",
        min_length=1,
        description="The iss of tokens this hub issues.",
        examples=["polestar"],
    )
    audience: str = Field(
        default="polestar-api", min_length=1, description="The aud every accepted token must carry."
    )
    local_issuer: bool = Field(
        default=True,
        description="Issue and trust tokens signed by the keys in DATA_DIR/security (polestar token issue).",
    )
    oidc: OidcConfig | None = Field(default=None, description="Also trust this OpenID Connect provider.")
    clock_skew_seconds: int = Field(default=30, ge=0, le=300, description="Leeway on exp, nbf and iat.")
    max_token_ttl: int = Field(default=86_400, ge=60, le=31 * 86_400, description="Longest token issued.")
    clients: list[ClientConfig] = Field(default_factory=list, description="Systems using client credentials.")
    policy_dir: Path | None = Field(
        default=None,
        description="Folder of Cedar policy files (*.cedar) and fields.yaml; default the built-in policies.",
        examples=["/etc/polestar/policy"],
    )
    agreements: AgreementMode = Field(
        default=AgreementMode.REQUIRED,
        description="required (default): outbound flows need a data-sharing agreement.",
    )
    agreements_dir: Path | None = Field(
        default=None,
        description="Folder of agreement YAML files; default INTEGRATION_DIR/agreements.",
        examples=["/etc/polestar/integration/agreements"],
    )
    max_json_depth: int = Field(default=32, ge=2, le=256, description="Deepest JSON nesting accepted.")
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig, description="Per-client rate.")
    public_docs: bool = Field(
        default=False, description="Serve /docs and /openapi.json without a token (the API is open source)."
    )
    hsts: bool = Field(
        default=False,
        description="Send Strict-Transport-Security (turn on when the hub is only reached over HTTPS).",
    )

    @model_validator(mode="after")
    def _clients_once_each(self) -> Self:
        ids = [c.id for c in self.clients]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"client id(s) repeated: {', '.join(repeated)}")
        return self
