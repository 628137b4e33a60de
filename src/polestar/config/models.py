"""The hub's own configuration: what ``polestar.yaml`` may say, field by field.

``HubConfig`` is a plain pydantic model: building one reads nothing from the
environment or the disk. ``polestar.config.load_config`` is where the file and
the ``POLESTAR_*`` environment variables are layered onto it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from polestar.bus.config import BusConfig, SqliteBusConfig
from polestar.resolution.config import ResolutionPolicy
from polestar.security.config import SecurityConfig

DEFAULT_STORE_FILE = "store.sqlite3"
"""The embedded store's file name under the data folder."""

EMBEDDED_STORE_SCHEMES = frozenset({"sqlite", "sqlite+aiosqlite"})
CLUSTER_STORE_SCHEMES = frozenset({"postgresql+asyncpg"})


class Profile(StrEnum):
    """How the hub is deployed; the two profiles keep one contract (see DESIGN.md)."""

    EMBEDDED = "embedded"
    """One process, SQLite files under the data folder, no other service."""
    CLUSTER = "cluster"
    """Many stateless hub processes on NATS JetStream and PostgreSQL."""


BUS_KIND_FOR_PROFILE = {Profile.EMBEDDED: "sqlite", Profile.CLUSTER: "jetstream"}


class LogLevel(StrEnum):
    """The least severe log records written."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"


class LogFormat(StrEnum):
    """How log records are written."""

    CONSOLE = "console"
    """One readable line per record, for people at a terminal."""
    JSON = "json"
    """One JSON object per line, for log collectors."""


class ApiConfig(BaseModel):
    """Where the HTTP API listens and how it describes itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(
        default="127.0.0.1",
        min_length=1,
        description="Interface to listen on; 0.0.0.0 listens on every interface.",
        examples=["127.0.0.1", "0.0.0.0"],  # noqa: S104 - documenting the choice, not binding
    )
    port: int = Field(
        default=8000, ge=0, le=65535, description="TCP port; 0 picks a free one.", examples=[8000]
    )
    public_url: AnyHttpUrl | None = Field(
        default=None,
        description="The URL callers use to reach the hub (behind a proxy); default http://HOST:PORT.",
        examples=["https://polestar.force.police.uk"],
    )
    max_request_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="Largest request body accepted; larger ones are refused with 413.",
        examples=[1048576],
    )

    def base_url(self, port: int | None = None) -> str:
        """The public URL, or the listening address as a URL a browser on this machine can open."""
        if self.public_url is not None:
            return str(self.public_url).rstrip("/")
        host = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(self.host, self.host)  # noqa: S104 - mapped, not bound
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"http://{host}:{self.port if port is None else port}"


class StoreConfig(BaseModel):
    """The database holding POLE entities, links, history and the audit log."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str | None = Field(
        default=None,
        description=(
            "Database URL. Embedded: sqlite:///FILE (relative files are under the data folder; "
            f"default {DEFAULT_STORE_FILE}). Cluster: postgresql+asyncpg://USER@HOST:PORT/DB, required. "
            "Put passwords in the POLESTAR_STORE__URL environment variable, not in the file."
        ),
        examples=["sqlite:///store.sqlite3", "postgresql+asyncpg://polestar@127.0.0.1:5432/polestar"],
    )


AuditOperationName = Literal[
    "collection", "alteration", "consultation", "disclosure", "combination", "erasure"
]
"""The s62 operations, by the names ``polestar.audit.Operation`` gives them."""


class AuditConfig(BaseModel):
    """The s62 audit log: what must state a purpose, how often heads are witnessed, how it batches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(
        default=True,
        description=(
            "Record every collection, alteration, consultation, disclosure, combination and erasure. "
            "Turn off only for throwaway test hubs: DPA 2018 s62 requires the log."
        ),
    )
    checkpoint_interval: float = Field(
        default=60.0,
        gt=0,
        description="Seconds between checkpoints: signed heads kept for good and sent to the witnesses.",
        examples=[60.0],
    )
    witness_file: Path | None = Field(
        default=None,
        description=(
            "A JSON Lines file each checkpoint head is appended to; put it on other storage "
            "(relative paths are under the data folder)."
        ),
        examples=["/mnt/worm/polestar-heads.jsonl"],
    )
    witness_url: AnyHttpUrl | None = Field(
        default=None,
        description="An HTTP endpoint each checkpoint head is POSTed to as JSON.",
        examples=["https://witness.example.police.uk/heads"],
    )
    purpose_required_for: list[AuditOperationName] = Field(
        default=["consultation", "disclosure"],
        description=(
            "Operations refused unless the caller states a purpose (the X-Polestar-Purpose header, "
            "or the event's purpose)."
        ),
        examples=[["consultation", "disclosure"]],
    )
    max_batch: int = Field(
        default=2000,
        ge=1,
        le=100_000,
        description="The most entries written in one transaction (group commit).",
        examples=[2000],
    )


class LogConfig(BaseModel):
    """What the hub logs and how."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: LogLevel = Field(
        default=LogLevel.INFO, description="The least severe records written.", examples=["INFO", "DEBUG"]
    )
    format: LogFormat = Field(
        default=LogFormat.CONSOLE,
        description="console for people, json for collectors.",
        examples=["console", "json"],
    )


class OrganisationConfig(BaseModel):
    """The force or organisation running this hub, as it appears in references and audit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(
        default="XX",
        pattern=r"^[A-Z0-9]{2,8}$",
        description="Short code of the force or organisation, e.g. its two-character PNC force code.",
        examples=["01", "WMP"],
    )
    name: str = Field(
        default="Demonstration Constabulary",
        min_length=1,
        max_length=200,
        description="The name shown in the console and on exported documents.",
        examples=["Metropolitan Police Service"],
    )


class HubConfig(BaseModel):
    """A Polestar hub: its profile, data folder, API, bus, store, logging, organisation and security."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Polestar hub configuration (polestar.yaml)",
        json_schema_extra={"examples": [{"profile": "embedded", "data_dir": ".polestar/data"}]},
    )

    profile: Profile = Field(
        default=Profile.EMBEDDED,
        description="embedded: one process on SQLite files. cluster: JetStream and PostgreSQL.",
        examples=["embedded", "cluster"],
    )
    data_dir: Path = Field(
        default=Path(".polestar/data"),
        description="Folder for the hub's files (SQLite databases in the embedded profile).",
        examples=[".polestar/data", "/var/lib/polestar"],
    )
    integration_dir: Path | None = Field(
        default=None,
        description="Folder of connectors/, mappings/ and routes/ YAML files, hot reloaded while the hub "
        "runs. Relative to the working folder. Unset: the hub runs no integrations.",
        examples=["examples/integration", "/etc/polestar/integration"],
    )
    api: ApiConfig = Field(default_factory=ApiConfig, description="The HTTP API.")
    bus: BusConfig = Field(
        default_factory=SqliteBusConfig,
        description="The event bus engine: kind sqlite (embedded) or jetstream (cluster). "
        "Defaults to the engine of the profile.",
    )
    store: StoreConfig = Field(default_factory=StoreConfig, description="The POLE and audit database.")
    resolution: ResolutionPolicy = Field(
        default_factory=ResolutionPolicy,
        description="Entity resolution: the scores at which incoming records merge, go to review or are new.",
    )
    log: LogConfig = Field(default_factory=LogConfig, description="Logging.")
    audit: AuditConfig = Field(default_factory=AuditConfig, description="The s62 audit log.")
    display_timezone: str = Field(
        default="Europe/London",
        description="IANA zone times are shown in; they are always stored in UTC.",
        examples=["Europe/London"],
    )
    organisation: OrganisationConfig = Field(
        default_factory=OrganisationConfig, description="The force or organisation running the hub."
    )
    security: SecurityConfig = Field(
        default_factory=SecurityConfig,
        description="Identity, authorisation, data-sharing agreements and API hardening (deny by default).",
    )

    @model_validator(mode="before")
    @classmethod
    def _bus_defaults_to_the_profile_engine(cls, data: Any) -> Any:
        # Filled in before validation so that `profile: cluster` alone means JetStream,
        # and a bus section without `kind` (e.g. only POLESTAR_BUS__REPLICAS) gets one.
        if not isinstance(data, dict):
            return data
        try:
            kind = BUS_KIND_FOR_PROFILE[Profile(data.get("profile", Profile.EMBEDDED))]
        except ValueError:
            return data  # the profile itself is reported as invalid
        bus = data.get("bus")
        if bus is None:
            return {**data, "bus": {"kind": kind}}
        if isinstance(bus, dict) and "kind" not in bus:
            return {**data, "bus": {**bus, "kind": kind}}
        return data

    @field_validator("bus")
    @classmethod
    def _bus_matches_profile(cls, bus: BusConfig, info: ValidationInfo) -> BusConfig:
        profile = info.data.get("profile")
        if profile is not None and bus.kind != BUS_KIND_FOR_PROFILE[profile]:
            raise ValueError(
                f"the {profile.value} profile runs the {BUS_KIND_FOR_PROFILE[profile]} bus, "
                f"but bus.kind is {bus.kind!r}; change one of them"
            )
        return bus

    @field_validator("store")
    @classmethod
    def _store_matches_profile(cls, store: StoreConfig, info: ValidationInfo) -> StoreConfig:
        profile = info.data.get("profile")
        if profile is Profile.CLUSTER:
            if store.url is None:
                raise ValueError(
                    "the cluster profile needs store.url, e.g. postgresql+asyncpg://polestar@HOST:5432/polestar"
                )
            _check_scheme(store.url, CLUSTER_STORE_SCHEMES, profile)
        elif profile is Profile.EMBEDDED and store.url is not None:
            _check_scheme(store.url, EMBEDDED_STORE_SCHEMES, profile)
        return store

    @field_validator("display_timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/London'"
            ) from None
        return value

    def resolve(self, path: Path) -> Path:
        """``path`` as used by the hub: relative paths are under the data folder."""
        return path if path.is_absolute() else self.data_dir / path

    @property
    def store_url(self) -> str:
        """The store URL in effect, with the embedded default filled in under the data folder."""
        if self.store.url is not None:
            url = self.store.url
            scheme, _, rest = url.partition(":///")
            if scheme in EMBEDDED_STORE_SCHEMES and rest and not Path(rest).is_absolute():
                return f"{scheme}:///{self.resolve(Path(rest))}"
            return url
        return f"sqlite:///{self.resolve(Path(DEFAULT_STORE_FILE))}"

    def with_changes(self, changes: dict[str, Any]) -> Self:
        """A copy with ``changes`` (field to value, or to a dict of nested changes) validated again."""
        return type(self).model_validate(_deep_merge(self.model_dump(), changes))


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for printing."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def _check_scheme(url: str, allowed: frozenset[str], profile: Profile) -> None:
    scheme = urlsplit(url).scheme
    if scheme not in allowed:
        wanted = " or ".join(f"{s}://" for s in sorted(allowed))
        raise ValueError(
            f"the {profile.value} profile needs a {wanted} store URL, not {scheme or 'no'} scheme"
        )


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
