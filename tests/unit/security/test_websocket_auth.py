"""A WebSocket needs a bearer token too: refused before the handshake, the caller never reaches the app."""

from __future__ import annotations

from polestar.config import HubConfig
from polestar.security import SecurityService
from polestar.security.testing import auth_headers
from polestar.security.web import SecurityMiddleware


async def _connect(middleware: SecurityMiddleware, headers: dict[str, str]) -> tuple[list[dict], list[dict]]:
    reached: list[dict] = []
    sent: list[dict] = []

    async def app(scope, receive, send) -> None:
        reached.append(scope)

    async def receive() -> dict:
        return {"type": "websocket.connect"}

    async def send(message: dict) -> None:
        sent.append(message)

    middleware.app = app
    scope = {
        "type": "websocket",
        "path": "/api/devices/tablet-1/stream",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    await middleware(scope, receive, send)
    return reached, sent


async def test_a_websocket_without_a_valid_token_is_closed_before_the_app_sees_it(tmp_path) -> None:
    config = HubConfig(data_dir=tmp_path)
    middleware = SecurityMiddleware(lambda *_: None, SecurityService(config))  # type: ignore[arg-type]
    reached, sent = await _connect(middleware, {"Authorization": "Bearer forged"})
    assert reached == []
    assert sent[0]["type"] == "websocket.close"
    assert sent[0]["code"] == 1008

    reached, sent = await _connect(middleware, auth_headers(config, subject="device:tablet-1"))
    assert sent == []
    assert reached[0]["state"]["principal"].subject == "device:tablet-1"
