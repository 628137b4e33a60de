"""Opening a robust (self-reconnecting) AMQP connection with the password from outside the YAML."""

from __future__ import annotations

import asyncio
import os

from polestar.connectors.amqp._client import URL, aio_pika, aiormq
from polestar.connectors.amqp.config import AmqpConnection
from polestar.errors import ConfigError


class AmqpUnreachableError(ConnectionError):
    """The broker did not accept a connection within the connect timeout."""


def broker_url(name: str, config: AmqpConnection) -> URL:
    """``config.url`` with the password from ``password_env`` / ``password_file`` filled in."""
    url = URL(config.url)
    password: str | None = None
    if config.password_env is not None:
        password = os.environ.get(config.password_env)
        if password is None:
            raise ConfigError(
                name, [("password_env", f"environment variable {config.password_env} is not set")]
            )
    elif config.password_file is not None:
        try:
            password = config.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(name, [("password_file", f"cannot read it: {exc}")]) from exc
    return url.with_password(password) if password is not None else url


async def open_connection(name: str, config: AmqpConnection) -> aio_pika.abc.AbstractRobustConnection:
    """A robust connection (it reconnects and restores channels itself) or ``AmqpUnreachableError``."""
    url = broker_url(name, config)
    try:
        return await asyncio.wait_for(
            aio_pika.connect_robust(
                url, timeout=config.connect_timeout, client_properties={"connection_name": f"polestar-{name}"}
            ),
            config.connect_timeout + 1,
        )
    except (OSError, TimeoutError, aiormq.exceptions.AMQPError) as exc:
        raise AmqpUnreachableError(f"cannot connect to AMQP at {url.with_password(None)}: {exc!r}") from exc
