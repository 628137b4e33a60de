"""Opening a NATS connection for a connector: bounded first attempt, reconnect forever after."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from polestar.connectors.nats._client import NatsClient, nats
from polestar.connectors.nats.config import NatsConnection
from polestar.errors import ConfigError

logger = logging.getLogger(__name__)


class NatsUnreachableError(ConnectionError):
    """No server of the list answered within the connect timeout."""


async def open_connection(name: str, config: NatsConnection) -> NatsClient:
    """Connect to ``config.servers``; raise ``NatsUnreachableError`` if none answers in time."""

    async def on_error(exc: Exception) -> None:
        logger.warning("nats connector %s: %r", name, exc)

    async def on_disconnected() -> None:
        logger.warning("nats connector %s: disconnected; reconnecting", name)

    options: dict[str, Any] = {
        "servers": list(config.servers),
        "connect_timeout": config.connect_timeout,
        "name": f"polestar-{name}",
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 1,
        "error_cb": on_error,
        "disconnected_cb": on_disconnected,
    }
    if config.credentials_file is not None:
        options["user_credentials"] = str(config.credentials_file)
    if config.token_env is not None:
        token = os.environ.get(config.token_env)
        if not token:
            raise ConfigError(name, [("token_env", f"environment variable {config.token_env} is not set")])
        options["token"] = token
    client = NatsClient()
    try:
        # With max_reconnect_attempts=-1 nats-py would retry the first connection forever too.
        await asyncio.wait_for(client.connect(**options), config.connect_timeout)
    except (OSError, TimeoutError, nats.errors.Error) as exc:
        await client.close()
        raise NatsUnreachableError(f"cannot connect to NATS at {', '.join(config.servers)}: {exc!r}") from exc
    return client
