"""Configuration of the bus engines, chosen by ``kind`` in ``polestar.yaml``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from polestar.bus.contract import RetentionPolicy


class SqliteSynchronous(StrEnum):
    """SQLite's ``PRAGMA synchronous``: FULL survives power loss; NORMAL only process crashes."""

    FULL = "FULL"
    NORMAL = "NORMAL"


class SqliteBusConfig(BaseModel):
    """The embedded engine: one SQLite file in WAL mode with group commit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["sqlite"] = "sqlite"
    path: Path = Field(
        default=Path("bus.sqlite3"),
        description="The bus database file; relative paths are under the hub's data folder.",
        examples=["bus.sqlite3", "/var/lib/polestar/bus.sqlite3"],
    )
    synchronous: SqliteSynchronous = Field(
        default=SqliteSynchronous.FULL,
        description="FULL (default) fsyncs every commit; NORMAL risks the last commits on power loss.",
    )
    group_commit_max: int = Field(
        default=1000, ge=1, le=100_000, description="Most publishes folded into one transaction."
    )
    group_commit_delay: float = Field(
        default=0.0,
        ge=0,
        le=0.1,
        description="Seconds the writer waits to gather more publishes into one commit.",
    )
    poll_interval: float = Field(
        default=0.05,
        gt=0,
        le=5,
        description="Seconds between checks for work written by another process.",
    )
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)


class JetStreamBusConfig(BaseModel):
    """The cluster engine: NATS JetStream streams and durable pull consumers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["jetstream"] = "jetstream"
    servers: tuple[str, ...] = Field(
        default=("nats://127.0.0.1:4222",),
        min_length=1,
        description="NATS server URLs.",
        examples=[["nats://nats-1:4222", "nats://nats-2:4222"]],
    )
    stream_prefix: str = Field(
        default="POLESTAR",
        pattern=r"^[A-Z][A-Z0-9_]{0,31}$",
        description="Prefix for stream names; one hub installation per prefix.",
    )
    subject_prefix: str = Field(
        default="polestar",
        pattern=r"^[a-z][a-z0-9_-]{0,31}$",
        description="Prefix for every subject the engine uses on the NATS server.",
    )
    replicas: int = Field(default=1, ge=1, le=5, description="Stream replicas; use 3 in production clusters.")
    partitions: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Partitions for per-key ordering: keys hash to one of these.",
    )
    connect_timeout: float = Field(default=5.0, gt=0, description="Seconds to connect.")
    credentials_file: Path | None = Field(
        default=None, description="NATS credentials (.creds) file; never put secrets in YAML."
    )
    retention: RetentionPolicy = Field(default_factory=RetentionPolicy)


BusConfig = Annotated[SqliteBusConfig | JetStreamBusConfig, Field(discriminator="kind")]
"""Either engine, chosen by ``kind``."""
