"""Configuration of the ``amqp`` connector kind: a system's RabbitMQ (AMQP 0-9-1) queues and exchanges."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ExchangeType = Literal["direct", "topic", "fanout", "headers"]


class AmqpConnection(BaseModel):
    """The broker, and where its password comes from (never the YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        default="amqp://guest@127.0.0.1:5672/",
        description="Broker URL without a password (amqp:// or amqps://, user and vhost included).",
        examples=["amqps://polestar@rabbit.force.local:5671/custody"],
    )
    password_env: str | None = Field(
        default=None,
        description="Environment variable holding the password.",
        examples=["CUSTODY_AMQP_PASSWORD"],
    )
    password_file: Path | None = Field(
        default=None, description="File holding the password.", examples=["/run/secrets/custody-amqp"]
    )
    connect_timeout: float = Field(default=5.0, gt=0, le=120, description="Seconds to connect.")

    @field_validator("url")
    @classmethod
    def _no_password_in_url(cls, value: str) -> str:
        if not value.startswith(("amqp://", "amqps://")):
            raise ValueError("url must start with amqp:// or amqps://")
        authority = value.split("://", 1)[1].split("/", 1)[0]
        if "@" in authority and ":" in authority.split("@", 1)[0]:
            raise ValueError("put the password in password_env or password_file, not in the url")
        return value


class AmqpInboundConfig(AmqpConnection):
    """Consume a durable queue (bound to an exchange), acking each message after the hub took it."""

    queue: str = Field(description="The queue consumed.", examples=["polestar.custody"])
    exchange: str | None = Field(
        default=None,
        description="Bind the queue to this exchange (declared durable if missing); unset: no binding.",
        examples=["custody.events"],
    )
    exchange_type: ExchangeType = Field(default="topic", description="Type of ``exchange`` when declared.")
    routing_keys: tuple[str, ...] = Field(
        default=("#",), min_length=1, description="Binding keys.", examples=[["custody.#"]]
    )
    declare: bool = Field(
        default=True,
        description="Declare the queue, exchange and bindings; false: they must exist (checked passively).",
    )
    queue_arguments: dict[str, Any] = Field(
        default_factory=dict,
        description="Arguments for a declared queue.",
        examples=[{"x-queue-type": "quorum"}],
    )
    prefetch: int = Field(
        default=16, ge=1, le=10_000, description="Unacked messages the broker sends at once."
    )
    retry_delay: float = Field(
        default=2.0, ge=0, description="Seconds before a message the hub could not take is requeued."
    )
    content_type: str = Field(
        default="application/json", description="Content type assumed when a message carries none."
    )


class AmqpOutboundConfig(AmqpConnection):
    """Publish persistent messages with publisher confirms; unroutable messages are refused."""

    exchange: str = Field(
        default="", description="Exchange published to; '' is the default exchange (routing key = queue)."
    )
    exchange_type: ExchangeType = Field(default="topic", description="Type of ``exchange`` when declared.")
    declare_exchange: bool = Field(
        default=False, description="Declare the exchange (durable) at start; false: it must exist."
    )
    routing_key: str | None = Field(
        default=None,
        description="Routing key; a route's target overrides it.",
        examples=["warehouse.custody"],
    )
    mandatory: bool = Field(
        default=True,
        description="Ask the broker to return a message no queue takes; it is then refused (dead-lettered).",
    )
    timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds to wait for the broker's confirm."
    )
