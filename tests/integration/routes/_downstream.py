"""A downstream system for route tests: a real HTTP server that can be up, failing or down.

``Downstream`` runs uvicorn on 127.0.0.1 and a port of its own in the test's
event loop. ``failing(503, retry_after=...)`` makes it answer errors;
``down()`` stops the server (connections are refused) and ``up()`` starts it
again on the same port, like a system coming back after an outage.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    body: Any
    headers: dict[str, str]
    at: float


@dataclass
class Downstream:
    status: int = 202
    retry_after: str | None = None
    received: list[Received] = field(default_factory=list)
    calls: list[float] = field(default_factory=list)
    """The loop time of every request, answered or not."""

    def __post_init__(self) -> None:
        self.port = _free_port()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def failing(self, status: int = 503, *, retry_after: str | None = None) -> None:
        self.status, self.retry_after = status, retry_after

    def healthy(self) -> None:
        self.status, self.retry_after = 202, None

    async def _handle(self, request: Request) -> Response:
        now = asyncio.get_running_loop().time()
        self.calls.append(now)
        if self.status >= 300:
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return JSONResponse({"detail": "unavailable"}, status_code=self.status, headers=headers)
        raw = await request.body()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode()
        self.received.append(Received(request.url.path, body, dict(request.headers), now))
        return JSONResponse({"id": f"ref-{len(self.received)}"}, status_code=self.status)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST", "PUT"])])

    async def up(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="off", ws="none", access_log=False)
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        for _ in range(500):
            if self._server.started:
                return
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("uvicorn did not start")

    async def down(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server, self._task = None, None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
