"""Building an aiomqtt client from the configuration (no I/O: connecting is ``async with``)."""

from __future__ import annotations

import os
import ssl

from polestar.connectors.mqtt._client import aiomqtt
from polestar.connectors.mqtt.config import MqttConnection
from polestar.errors import ConfigError


def password(name: str, config: MqttConnection) -> str | None:
    """The password from ``password_env`` or ``password_file``, if one is configured."""
    if config.password_env is not None:
        value = os.environ.get(config.password_env)
        if value is None:
            raise ConfigError(
                name, [("password_env", f"environment variable {config.password_env} is not set")]
            )
        return value
    if config.password_file is not None:
        try:
            return config.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(name, [("password_file", f"cannot read it: {exc}")]) from exc
    return None


def make_client(name: str, config: MqttConnection, *, clean_session: bool) -> aiomqtt.Client:
    """An MQTT 3.1.1 client for ``config`` (it needs a running event loop)."""
    return aiomqtt.Client(
        config.host,
        config.port,
        identifier=config.client_id or f"polestar-{name}",
        username=config.username,
        password=password(name, config),
        clean_session=clean_session,
        protocol=aiomqtt.ProtocolVersion.V311,
        keepalive=config.keepalive,
        timeout=config.timeout,
        tls_context=ssl.create_default_context() if config.tls else None,
    )
