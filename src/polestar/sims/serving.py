"""Serving simulators: one app on a port, or many in one asyncio loop.

``serve(app, port=0)`` is an async context manager that starts a real uvicorn
server (port 0 picks a free one) and yields its base URL; tests and
``run_all`` use it. ``run(app, host, port)`` blocks until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner (several share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", access_log=False)


@contextlib.asynccontextmanager
async def serve(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Run ``app`` on ``host:port`` while the block runs; yield ``http://host:port`` (the real port)."""
    server = _Server(_config(app, host, port))
    task = asyncio.create_task(server.serve(), name=f"sim-server-{host}:{port}")
    try:
        while not server.started:
            if task.done():
                task.result()  # raises the start-up error
                raise RuntimeError(f"the simulator server on {host}:{port} stopped while starting")
            await asyncio.sleep(0.01)
        bound = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


def run(app: Any, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``app`` until interrupted (Ctrl-C)."""
    uvicorn.Server(_config(app, host, port)).run()
