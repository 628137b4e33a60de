"""Configuration of the ``mqtt`` connector kind: a system's MQTT topics (devices, vehicles, sensors)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, field_validator


class MqttConnection(BaseModel):
    """The broker, the client identity, and where the password comes from (never the YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(
        default="mqtt://127.0.0.1:1883",
        description="Broker URL: mqtt:// (plain) or mqtts:// (TLS), host and port, no credentials.",
        examples=["mqtts://mqtt.force.local:8883"],
    )
    username: str | None = Field(default=None, description="User name, if the broker wants one.")
    password_env: str | None = Field(
        default=None, description="Environment variable holding the password.", examples=["AVL_MQTT_PASSWORD"]
    )
    password_file: Path | None = Field(default=None, description="File holding the password.")
    client_id: str | None = Field(
        default=None,
        description="MQTT client identifier; default polestar-<connector>. It names the persistent session.",
        examples=["polestar-avl"],
    )
    keepalive: int = Field(default=30, ge=5, le=3600, description="Keep-alive interval, seconds.")
    timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds to connect, subscribe or publish."
    )

    @field_validator("url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in {"mqtt", "mqtts"} or not parsed.hostname:
            raise ValueError("url must be mqtt://host[:port] or mqtts://host[:port]")
        if parsed.password:
            raise ValueError("put the password in password_env or password_file, not in the url")
        return value

    @property
    def host(self) -> str:
        """The broker's host name."""
        return urlparse(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        """The broker's port (1883, or 8883 for mqtts)."""
        parsed = urlparse(self.url)
        return parsed.port or (8883 if parsed.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        """True for mqtts://."""
        return urlparse(self.url).scheme == "mqtts"


class MqttInboundConfig(MqttConnection):
    """Subscribe with QoS 1 in a persistent session, acking each message after the hub took it."""

    topics: tuple[str, ...] = Field(
        min_length=1, description="Topic filters (+ and # wildcards).", examples=[["avl/+/position"]]
    )
    qos: Literal[1, 2] = Field(default=1, description="Subscription QoS (1: at least once).")
    persistent_session: bool = Field(
        default=True,
        description=(
            "Connect with clean_session false: the broker keeps the subscription and queues QoS 1 "
            "messages while the hub is away, and resends any it did not see acked."
        ),
    )
    retry_delay: float = Field(
        default=2.0,
        ge=0,
        description="Seconds before reconnecting to have a message the hub could not take resent.",
    )
    reconnect_delay: float = Field(default=2.0, gt=0, description="Seconds between reconnection attempts.")
    content_type: str = Field(default="application/json", description="Content type of the payloads.")


class MqttOutboundConfig(MqttConnection):
    """Publish with QoS 1: ``deliver`` returns when the broker acknowledged (PUBACK)."""

    topic: str | None = Field(
        default=None,
        description="Topic published to; a route's target overrides it.",
        examples=["mdt/unit-42/tasks"],
    )
    qos: Literal[0, 1, 2] = Field(default=1, description="Publish QoS.")
    retain: bool = Field(default=False, description="Ask the broker to retain the last message per topic.")
