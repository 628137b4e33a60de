"""HTTP inbound: ``POST /ingest/<connector>`` for a system's own records or CloudEvents.

The hub mounts one router for every HTTP connector::

    endpoints = {"custody-http": HttpInbound("custody-http", config)}
    app.include_router(create_ingest_router(endpoints))
    await endpoints["custody-http"].start(BusIngest(bus, mappings.inbound, spec))

Answers (errors are RFC 9457 ``application/problem+json``):

=====  ====================================================================
200    every record read, none an event: the mapping's ``ignore_when`` says
       they make none, by design (``unmapped`` lists where); nothing to resend.
       A record no output applies to and ``ignore_when`` does not cover is
       rejected (422/207), so a misspelt event type never vanishes
202    every record accepted; the body lists the event ids, now durable
207    some records accepted (published) and some rejected: the body lists
       both; resubmit only the rejected ones. A batch is *partial*, not
       all-or-nothing: one bad row does not hold back the good ones.
400    the body cannot be read at all (malformed, hostile XML, no records)
404    no such connector
413    the body is over ``max_body_bytes``: the connector stops reading at
       the limit (or refuses a declared Content-Length unread); the server
       discards the rest as it arrives, never buffering it, so the client
       gets this answer rather than a connection reset
415    a content type the connector does not read
422    every record was rejected; ``rejected`` lists where and why
503    the connector is stopped or the bus is unavailable; retry later
=====  ====================================================================

Rejected records are named by place (``request <id>: record 3``) and reason,
never echoed back: they may hold personal data, and the caller has them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from polestar.connectors.contract import Ingest, IngestResult, RawMessage
from polestar.connectors.http.config import HttpInboundConfig
from polestar.connectors.ingest import UnsupportedContentType, describe_result
from polestar.errors import BusError, InboundRefused

PROBLEM_MEDIA_TYPE = "application/problem+json"
REJECTED_PROBLEM_TYPE = "urn:polestar:problem:records-rejected"


class _TooLarge(Exception):  # noqa: N818 - internal signal from the body reader
    pass


class HttpInbound:
    """The ``InboundConnector`` behind ``POST /ingest/<name>``. Constructing it opens nothing."""

    def __init__(self, name: str, config: HttpInboundConfig) -> None:
        self.name = name
        self.config = config
        self._ingest: Ingest | None = None

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._ingest is not None

    async def start(self, ingest: Ingest) -> None:
        """Begin answering requests with ``ingest``."""
        self._ingest = ingest

    async def stop(self) -> None:
        """Answer 503 from now on; requests in flight finish."""
        self._ingest = None

    async def handle(self, request: Request) -> Response:  # noqa: PLR0911 - one answer per status
        """Read, ingest and answer one request."""
        ingest = self._ingest
        path = request.url.path
        if ingest is None:
            return problem(HTTPStatus.SERVICE_UNAVAILABLE, f"connector {self.name!r} is not running", path)
        content_type = request.headers.get("content-type", "")
        if not content_type.strip():
            return problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "a Content-Type header is required", path)
        check = getattr(ingest, "media_format", None)
        try:
            if check is not None:
                check(content_type)  # refuse before reading a body we would not take
            body = await self._read(request)
        except UnsupportedContentType as exc:
            return problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, exc.reason, path)
        except _TooLarge:
            return problem(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"bodies sent to connector {self.name!r} are limited to {self.config.max_body_bytes} bytes",
                path,
            )
        reference = request.headers.get("x-request-id") or str(uuid.uuid4())
        raw = RawMessage(
            connector=self.name,
            body=body,
            content_type=content_type,
            reference=f"request {reference}",
            headers={k: v for k, v in request.headers.items() if k.lower() not in _PRIVATE_HEADERS},
        )
        try:
            result = await ingest(raw)
        except UnsupportedContentType as exc:
            return problem(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, exc.reason, path)
        except InboundRefused as exc:
            return problem(HTTPStatus.BAD_REQUEST, str(exc), path)
        except BusError as exc:
            return problem(
                HTTPStatus.SERVICE_UNAVAILABLE,
                f"the hub cannot store events now: {exc}",
                path,
                {"Retry-After": "5"},
            )
        return _answer(self.name, result, path)

    async def _read(self, request: Request) -> bytes:
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _TooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _TooLarge  # stop reading: the rest is never buffered
            chunks.append(chunk)
        return b"".join(chunks)


_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


def _answer(connector: str, result: IngestResult, path: str) -> Response:
    summary = {"connector": connector, **describe_result(result)}
    if not result.event_ids and not result.rejected:
        if result.unmapped:  # read; the mapping's ignore_when makes no event of them, by design
            return JSONResponse(summary, status_code=HTTPStatus.OK)
        return problem(HTTPStatus.BAD_REQUEST, "the body holds no records", path)
    if not result.event_ids:
        return problem(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            f"all {len(result.rejected)} record(s) were rejected; nothing was published",
            path,
            problem_type=REJECTED_PROBLEM_TYPE,
            extra={"rejected": summary["rejected"]},
        )
    status = HTTPStatus.ACCEPTED if result.complete else HTTPStatus.MULTI_STATUS
    return JSONResponse(summary, status_code=status)


def problem(
    status: HTTPStatus,
    detail: str,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    problem_type: str = "about:blank",
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem details response."""
    body: dict[str, Any] = {
        "type": problem_type,
        "title": status.phrase,
        "status": int(status),
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}))


def create_ingest_router(
    endpoints: Mapping[str, HttpInbound],
    *,
    prefix: str = "/ingest",
    dependencies: Sequence[Any] = (),
) -> APIRouter:
    """A router serving ``POST {prefix}/{connector}`` for the connectors in ``endpoints``.

    ``endpoints`` is read on every request, so the hub may add and remove
    connectors (on reload) without rebuilding the router. ``dependencies``
    (e.g. the hub's authentication) run before each request.
    """
    router = APIRouter(prefix=prefix, tags=["ingest"], dependencies=[Depends(d) for d in dependencies])

    @router.post(
        "/{connector}",
        status_code=HTTPStatus.ACCEPTED,
        summary="Send records to a connector",
        description=(
            "The body is the system's own records (JSON, JSON Lines, CSV or XML, as the connector is "
            "configured) or CloudEvents (structured or batched). Valid records are published durably "
            "before the answer; 207 lists any rejected records."
        ),
        responses={
            207: {"description": "Some records were rejected; the rest were accepted."},
            413: {"description": "The body is over the connector's limit."},
            415: {"description": "A content type the connector does not read."},
            422: {"description": "Every record was rejected."},
        },
    )
    async def ingest(connector: str, request: Request) -> Response:
        endpoint = endpoints.get(connector)
        if endpoint is None:
            return problem(
                HTTPStatus.NOT_FOUND, f"no HTTP connector is named {connector!r}", request.url.path
            )
        return await endpoint.handle(request)

    return router
