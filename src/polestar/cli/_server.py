"""Run the API under uvicorn on a socket bound first, so the real address is known and printed."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import uvicorn

from polestar.api import create_app
from polestar.cli._logging import logging_config
from polestar.config import HubConfig

STARTUP_POLL_SECONDS = 0.02


class HubFailedToStart(RuntimeError):  # noqa: N818 - reads as what the operator sees
    """The API did not start (its lifespan failed); the log says why."""


async def serve(
    config: HubConfig,
    sock: socket.socket,
    on_started: Callable[[uvicorn.Server], Awaitable[None]],
) -> None:
    """Serve the hub on ``sock`` until stopped; ``on_started`` runs once it accepts requests."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            lifespan="on",
            log_config=logging_config(config.log),
            log_level=config.log.level.value.lower(),
            server_header=False,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(STARTUP_POLL_SECONDS)
    if server.started:
        try:
            await on_started(server)
        except BaseException:
            server.should_exit = True
            await task
            raise
    await task
    if not server.started:
        raise HubFailedToStart("the hub did not start; see the log above")
