"""The thin HTTP seam over the security component: middleware, dependencies, token and JWKS routes.

``install_security(app, security)`` makes every route of ``app`` deny by
default: each request needs a valid bearer token except the public ones
(``PUBLIC_PATHS``: the probes, the JWKS and the token endpoint). A router
opts in to authorisation with ``Depends(require("action"))`` and reads the
caller with the ``CurrentPrincipal`` dependency (see ``docs/security.md``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from polestar.audit import AuditError
from polestar.model.envelope import Envelope
from polestar.security.errors import (
    AccessDenied,
    AuthenticationFailed,
    ClientRefused,
    PurposeRequired,
    RateLimited,
    SecurityError,
)
from polestar.security.policy import Decision, Resource
from polestar.security.principal import Principal
from polestar.security.service import SecurityService
from polestar.security.token_routes import router as token_router

log = logging.getLogger(__name__)


class GatedRuntime(Protocol):
    """What ``install_security`` needs of the integration runtime: its delivery gate."""

    delivery_gate: Callable[[str, str | None, Envelope], Awaitable[Envelope]] | None


PURPOSE_HEADER = "X-Polestar-Purpose"
PUBLIC_PATHS = frozenset({"/health", "/ready", "/.well-known/jwks.json", "/oauth/token"})
"""Answered without a token: load-balancer probes, the public keys and the token endpoint itself."""
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"})
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI loads its script and styles from a CDN and runs inline set-up code.
DOCS_CSP = (
    b"default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
    b"style-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: https:; "
    b"connect-src 'self'; frame-ancestors 'none'"
)


def install_security(
    app: FastAPI, security: SecurityService, *, max_request_bytes: int, runtime: GatedRuntime | None = None
) -> None:
    """Authenticate every request, add security headers, map refusals to problems, serve JWKS and tokens.

    Call it after the other middleware: it becomes the outermost. ``runtime``'s deliveries are
    checked against the data-sharing agreements (no agreement, no flow).
    """
    from polestar.api.limits import JsonDepthLimit  # noqa: PLC0415 - polestar.api imports this module

    app.state.security = security
    if runtime is not None:
        runtime.delivery_gate = security.gate
    app.add_middleware(JsonDepthLimit, max_depth=security.config.max_json_depth, max_bytes=max_request_bytes)
    app.add_middleware(SecurityMiddleware, security=security)
    app.include_router(token_router)
    for error, handler in _HANDLERS.items():
        app.add_exception_handler(error, handler)
    _document(app, security)


class SecurityMiddleware:
    """ASGI middleware: security headers on every response; a verified principal for every non-public path."""

    def __init__(self, app: ASGIApp, security: SecurityService) -> None:
        self.app = app
        self.security = security
        self.public = PUBLIC_PATHS | (DOCS_PATHS if security.config.public_docs else frozenset())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse with 401/429 or pass on with ``scope["state"]["principal"]`` set."""
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        hsts = self.security.config.hsts
        csp = DOCS_CSP if path in DOCS_PATHS else API_CSP

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [
                    *SECURITY_HEADERS,
                    (b"content-security-policy", csp),
                    (b"cache-control", b"no-store"),
                ]
                if hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                headers.extend((n, v) for n, v in extra if n not in present)
                message = {**message, "headers": headers}
            await send(message)

        client = scope.get("client")
        address = client[0] if client else "unknown"
        try:
            if path in self.public:
                self.security.limiter.take(f"address:{address}")
            else:
                authorization = Headers(scope=scope).get("authorization")
                try:
                    principal = await self.security.authenticate(authorization)
                except AuthenticationFailed as exc:
                    self.security.limiter.take(f"address:{address}")
                    await self.security.record_refusal(address, path, str(exc))
                    raise
                self.security.limiter.take(principal.rate_key)
                scope.setdefault("state", {})["principal"] = principal
        except SecurityError as exc:
            await _refusal(exc, path)(scope, receive, with_headers)
            return
        except AuditError as exc:
            await _audit_down(exc, path)(scope, receive, with_headers)
            return
        await self.app(scope, receive, with_headers)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A WebSocket needs a token too; refused before the handshake completes (the client sees 403).
        try:
            principal = await self.security.authenticate(Headers(scope=scope).get("authorization"))
            self.security.limiter.take(principal.rate_key)
        except SecurityError as exc:
            await send({"type": "websocket.close", "code": 1008, "reason": str(exc)[:120]})
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def _refusal(exc: SecurityError, path: str) -> Any:
    if isinstance(exc, RateLimited):
        retry = max(1, round(exc.retry_after + 0.5))
        return problem_response(
            HTTPStatus.TOO_MANY_REQUESTS, str(exc), instance=path, headers={"Retry-After": str(retry)}
        )
    if isinstance(exc, AuthenticationFailed | ClientRefused):
        challenge = f'Bearer realm="polestar", error="invalid_token", error_description="{_quoted(str(exc))}"'
        return problem_response(
            HTTPStatus.UNAUTHORIZED, str(exc), instance=path, headers={"WWW-Authenticate": challenge}
        )
    if isinstance(exc, PurposeRequired):
        return problem_response(HTTPStatus.BAD_REQUEST, str(exc), instance=path)
    if isinstance(exc, AccessDenied):
        return problem_response(HTTPStatus.FORBIDDEN, str(exc), instance=path)
    return problem_response(HTTPStatus.SERVICE_UNAVAILABLE, f"security: {exc}", instance=path)


def _audit_down(exc: AuditError, path: str) -> Any:
    return problem_response(
        HTTPStatus.SERVICE_UNAVAILABLE,
        f"the audit log could not record the access decision, so nothing was done: {exc}",
        instance=path,
    )


def problem_response(
    status: int, detail: str, *, instance: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An RFC 9457 problem details response (as ``polestar.api.problems`` makes them)."""
    body: dict[str, Any] = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def require_by_method(*, read: str, write: str) -> Callable[..., Awaitable[Decision]]:
    """``require(read)`` for GET and HEAD, ``require(write)`` for anything else (a router of both)."""
    readers, writers = require(read), require(write)

    async def authorised(request: Request, principal: CurrentPrincipal, purpose: Purpose = None) -> Decision:
        chosen = readers if request.method in {"GET", "HEAD"} else writers
        return await chosen(request, principal, purpose)

    return authorised


def _quoted(text: str) -> str:
    return text.replace("\\", "").replace('"', "'")[:200]


async def _security_problem(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, SecurityError)
    return _refusal(exc, request.url.path)


async def _audit_problem(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, AuditError)
    return _audit_down(exc, request.url.path)


_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[Any]]] = {
    SecurityError: _security_problem,
    AuditError: _audit_problem,
}


# --- dependencies for routers -------------------------------------------------------------------


def security_of(request: Request) -> SecurityService:
    """The hub's security service (``install_security`` puts it on ``app.state``)."""
    security = getattr(request.app.state, "security", None)
    if not isinstance(security, SecurityService):
        raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, "the security component is not installed")
    return security


async def current_principal(request: Request) -> Principal:
    """The verified caller (set by the middleware); 401 if there is none."""
    principal = request.scope.get("state", {}).get("principal")
    if isinstance(principal, Principal):
        return principal
    return await security_of(request).authenticate(request.headers.get("authorization"))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""A route parameter giving the verified caller."""
Purpose = Annotated[
    str | None,
    Header(
        alias=PURPOSE_HEADER,
        max_length=500,
        description="Why you are asking (recorded in the audit log; say why, never name the person).",
        examples=["roadside check after a stop"],
    ),
]


def require(action: str) -> Callable[..., Awaitable[Decision]]:
    """A dependency authorising ``action`` on the route (by its path template) for the caller.

    ``router = APIRouter(dependencies=[Depends(require("store.read"))])`` or per route.
    """

    async def authorised(request: Request, principal: CurrentPrincipal, purpose: Purpose = None) -> Decision:
        template = getattr(request.scope.get("route"), "path", "")
        resource = Resource.api(request.url.path, template)
        return await security_of(request).authorize(principal, action, resource, purpose=purpose)

    return authorised


def _problems_as_problem_json(responses: dict[str, Any]) -> None:
    # FastAPI documents every model response as application/json; problem details are sent as
    # application/problem+json (RFC 9457), so the document says what the wire carries.
    for status, response in responses.items():
        content = response.get("content", {})
        plain = content.get("application/json")
        schema = plain.get("schema", {}) if isinstance(plain, dict) else {}
        if str(status)[:1] in {"4", "5"} and "Problem" in str(schema.get("$ref", "")):
            content.setdefault("application/problem+json", {}).setdefault("schema", schema)
            del content["application/json"]


def _document(app: FastAPI, security: SecurityService) -> None:
    """Declare bearer authentication and the refusals every protected operation may answer."""
    original = app.openapi
    public = PUBLIC_PATHS | (DOCS_PATHS if security.config.public_docs else frozenset())

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "From polestar token issue, POST /oauth/token or the force's OIDC provider.",
        }
        schema["security"] = [{"bearerAuth": []}]
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        refusals = {
            "401": "No valid bearer token",
            "403": "Policy refused the action",
            "429": "Too many requests: retry after the Retry-After header",
        }
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                _problems_as_problem_json(responses)
                if path in public:
                    operation["security"] = []
                    responses.setdefault("429", {"description": refusals["429"], "content": problem})
                    continue
                for status, text in refusals.items():
                    responses.setdefault(status, {"description": text, "content": problem})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
