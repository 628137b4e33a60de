"""Refuse request bodies over the configured size before the application reads them."""

from __future__ import annotations

from http import HTTPStatus

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polestar.api.problems import problem_response


class _BodyTooLarge(Exception):  # noqa: N818 - internal signal between receive() and the middleware
    pass


class BodySizeLimit:
    """ASGI middleware answering 413 when a body exceeds ``max_bytes``, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, or answer 413 if its body is or turns out too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"request bodies are limited to {self.max_bytes} bytes",
            instance=scope.get("path"),
        )
        await response(scope, receive, send)


class JsonDepthLimit:
    """ASGI middleware answering 400 when a JSON body nests deeper than ``max_depth``.

    Deeply nested JSON costs a parser stack and every later walker recursion; it is
    refused before anything parses it. The body is read (at most ``max_bytes``: it is
    also refused with 413 beyond that) and handed on unchanged.
    """

    def __init__(self, app: ASGIApp, max_depth: int, max_bytes: int) -> None:
        self.app = app
        self.max_depth = max_depth
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check a JSON body's depth, then pass the request on with the body replayed."""
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(
                    scope,
                    receive,
                    send,
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"request bodies are limited to {self.max_bytes} bytes",
                )
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        depth = json_depth(body)
        if depth > self.max_depth:
            await _refuse(
                scope,
                receive,
                send,
                HTTPStatus.BAD_REQUEST,
                f"the JSON body nests {depth} levels deep; at most {self.max_depth} are accepted",
            )
            return
        await self.app(scope, _replay([body], None, receive), send)


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in ``body``; strings are skipped, invalid JSON not judged."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _is_json(scope: Scope) -> bool:
    raw: bytes = dict(scope["headers"]).get(b"content-type", b"")
    content_type = raw.split(b";")[0].strip().lower()
    return content_type == b"application/json" or content_type.endswith(b"+json")


def _replay(chunks: list[bytes], first: Message | None, receive: Receive | None = None) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": c, "more_body": False} for c in chunks]
    if first is not None:
        pending.append(first)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        if receive is not None:
            return await receive()
        return {"type": "http.disconnect"}

    return replayed


async def _refuse(scope: Scope, receive: Receive, send: Send, status: HTTPStatus, detail: str) -> None:
    response = problem_response(status, detail, instance=scope.get("path"))
    await response(scope, receive, send)
