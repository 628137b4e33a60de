"""Settings of the HTTP connector: an ingest endpoint in, REST calls out.

Secrets never sit in YAML: auth names an environment variable or a file
(e.g. a mounted Kubernetes secret) holding the token or password, read when
the connector starts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polestar.errors import ConfigError


class SecretRef(BaseModel):
    """Where a secret is found: an environment variable or a file, never the YAML itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = Field(
        default=None, description="Environment variable holding it.", examples=["CAD_TOKEN"]
    )
    file: Path | None = Field(
        default=None,
        description="File holding it (surrounding whitespace ignored).",
        examples=["/run/secrets/cad"],
    )

    @model_validator(mode="after")
    def _one_place(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("name exactly one of 'env' or 'file'")
        return self

    def read(self) -> str:
        """The secret's value; ``ConfigError`` naming the place when it is missing or empty."""
        if self.env is not None:
            value = os.environ.get(self.env, "")
            where = f"environment variable {self.env}"
        else:
            assert self.file is not None
            where = f"file {self.file}"
            try:
                value = self.file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError("http auth", [(where, f"cannot be read: {exc.strerror}")]) from None
        if not value.strip():
            raise ConfigError("http auth", [(where, "is missing or empty")])
        return value.strip()


class BearerAuth(BaseModel):
    """``Authorization: Bearer <token>``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["bearer"] = "bearer"
    token: SecretRef


class BasicAuth(BaseModel):
    """HTTP Basic authentication."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["basic"] = "basic"
    username: str = Field(min_length=1, description="User name (not a secret).")
    password: SecretRef


HttpAuth = Annotated[BearerAuth | BasicAuth, Field(discriminator="kind")]


class HttpInboundConfig(BaseModel):
    """The connector's endpoint on the hub: ``POST /ingest/<connector>``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        le=1024 * 1024 * 1024,
        description="Larger bodies are refused with 413, without being read to the end.",
    )


class HttpOutboundConfig(BaseModel):
    """Deliver each event with one HTTP request to the system's REST API."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        description=(
            "URL template; {id}, {type}, {subject}, {partitionkey} and {target} are replaced by "
            "the event's values, URL-encoded."
        ),
        examples=[
            "https://crime.example.police.uk/api/v2/reports",
            "https://cad.example/incidents/{subject}",
        ],
    )
    method: Literal["POST", "PUT", "PATCH"] = Field(default="POST")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra request headers (no secrets: use auth)."
    )
    auth: HttpAuth | None = Field(default=None, description="How the hub authenticates to the system.")
    timeout: float = Field(default=10.0, gt=0, le=600, description="Seconds for the whole request.")
    connect_timeout: float = Field(default=5.0, gt=0, le=600, description="Seconds to connect.")
    verify: bool | Path = Field(
        default=True,
        description="Verify TLS certificates (true), not at all (false), or against this CA bundle.",
    )
    client_cert: Path | None = Field(default=None, description="Client certificate (PEM) for mutual TLS.")
    client_key: Path | None = Field(
        default=None, description="Its private key (PEM), if not in the cert file."
    )
    max_retry_after: float = Field(
        default=3600.0, gt=0, description="Longest Retry-After honoured, seconds; longer ones are capped."
    )

    @model_validator(mode="after")
    def _url_is_http(self) -> HttpOutboundConfig:
        if not self.url.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        if any(name.lower() in {"authorization", "proxy-authorization"} for name in self.headers):
            raise ValueError(
                "put credentials in 'auth' (read from the environment or a file), not in headers"
            )
        return self
