"""Configuration of the ``nats`` connector kind: a system's own NATS subjects (core or JetStream)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class NatsConnection(BaseModel):
    """Where the system's NATS servers are, and how to authenticate (never a secret in YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    servers: tuple[str, ...] = Field(
        default=("nats://127.0.0.1:4222",),
        min_length=1,
        description="Server URLs; nats-py tries each and reconnects on loss.",
        examples=[["nats://cad-nats-1:4222", "nats://cad-nats-2:4222"]],
    )
    connect_timeout: float = Field(default=5.0, gt=0, le=120, description="Seconds to connect.")
    credentials_file: Path | None = Field(
        default=None,
        description="A NATS .creds file (JWT and NKey seed).",
        examples=["/run/secrets/cad.creds"],
    )
    token_env: str | None = Field(
        default=None, description="Environment variable holding an auth token.", examples=["CAD_NATS_TOKEN"]
    )


class JetStreamPull(BaseModel):
    """A durable JetStream pull consumer on the system's stream: acked after ingest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stream: str = Field(description="The system's stream (it must exist).", examples=["CAD"])
    durable: str = Field(
        description="Durable consumer name: the hub's position survives restarts.", examples=["polestar"]
    )
    batch: int = Field(default=16, ge=1, le=1000, description="Messages fetched at once.")
    fetch_timeout: float = Field(default=1.0, gt=0, le=60, description="Seconds one fetch waits.")
    ack_wait: float = Field(
        default=30.0, gt=0, description="Seconds before an unacked message is redelivered (hub crashed)."
    )
    retry_delay: float = Field(
        default=5.0, ge=0, description="Seconds before a message the hub could not take is redelivered."
    )


class NatsInboundConfig(NatsConnection):
    """Subscribe to the system's subject: a core queue subscription, or a JetStream pull consumer."""

    subject: str = Field(description="Subject filter (wildcards allowed).", examples=["cad.incidents.>"])
    queue_group: str | None = Field(
        default="polestar",
        description="Core subscriptions: hub processes in one queue group share the messages.",
    )
    jetstream: JetStreamPull | None = Field(
        default=None, description="Consume from a JetStream stream (at-least-once) instead of core NATS."
    )
    content_type: str = Field(
        default="application/json",
        description="Content type assumed when a message has no Content-Type header.",
    )
    retry_delay: float = Field(
        default=2.0, gt=0, description="Core subscriptions: seconds between in-process retries of ingest."
    )


class NatsOutboundConfig(NatsConnection):
    """Publish to the system's subject: JetStream (acked, deduplicated) when ``stream`` is set."""

    subject: str | None = Field(
        default=None,
        description="Subject published on; a route's target overrides it.",
        examples=["intel.feed.pole"],
    )
    stream: str | None = Field(
        default=None,
        description=(
            "Expect this JetStream stream to store the subject: publish waits for its ack and sets "
            "Nats-Msg-Id to the event id, so a retried delivery is stored once."
        ),
        examples=["INTEL"],
    )
    timeout: float = Field(default=5.0, gt=0, le=120, description="Seconds to wait for an ack or a flush.")
