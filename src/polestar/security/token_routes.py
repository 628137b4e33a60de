"""``/.well-known/jwks.json`` (the hub's public signing keys) and ``/oauth/token`` (client credentials).

The token endpoint follows RFC 6749 section 4.4: a form-encoded body with
``grant_type=client_credentials`` and the client's id and secret, either in the
body or as HTTP Basic credentials. Its errors are RFC 6749 error objects,
because that is what OAuth2 client libraries read.
"""

from __future__ import annotations

import base64
import binascii
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from polestar.security.errors import AuthenticationFailed, ClientRefused, SecurityError
from polestar.security.service import SecurityService

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 4096


class TokenResponse(BaseModel):
    """An access token for a system (RFC 6749 section 5.1)."""

    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(description="The bearer token (a JWT).")
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int = Field(description="Seconds it lives.", examples=[900])


class TokenError(BaseModel):
    """Why no token was issued (RFC 6749 section 5.2)."""

    model_config = ConfigDict(extra="forbid")

    error: Literal["invalid_request", "invalid_client", "unsupported_grant_type"]
    error_description: str


class JsonWebKeySet(BaseModel):
    """The public keys tokens issued by this hub are signed with (RFC 7517)."""

    model_config = ConfigDict(extra="forbid")

    keys: list[dict[str, Any]] = Field(description="JWKs: kty OKP, crv Ed25519, kid, alg EdDSA, use sig.")


router = APIRouter(tags=["security"])

_TOKEN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FORM_MEDIA_TYPE: {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string", "maxLength": 64},
                        "client_secret": {"type": "string", "maxLength": 512},
                    },
                }
            }
        },
    }
}


def _security(request: Request) -> SecurityService:
    security = request.app.state.security
    assert isinstance(security, SecurityService)
    return security


@router.get("/.well-known/jwks.json", summary="The hub's public signing keys (JWKS)")
async def jwks(request: Request) -> JsonWebKeySet:
    """Verify the hub's tokens with these; no token is needed to read them."""
    security = _security(request)
    await security.ensure_started()
    keys = security.keys
    return JsonWebKeySet(keys=[] if keys is None else keys.jwks()["keys"])


@router.post(
    "/oauth/token",
    summary="Client-credentials token for a system (OAuth2)",
    openapi_extra=_TOKEN_BODY,
    response_model=TokenResponse,
    responses={
        HTTPStatus.BAD_REQUEST: {
            "model": TokenError,
            "description": "Malformed request or unsupported grant",
        },
        HTTPStatus.UNAUTHORIZED: {"model": TokenError, "description": "Unknown client or wrong secret"},
    },
)
async def token(request: Request) -> TokenResponse | JSONResponse:
    """Exchange a system's client id and secret for a short-lived bearer token."""
    try:
        client_id, secret = await _credentials(request)
        security = _security(request)
        await security.ensure_started()
        access, ttl = security.issue_client_token(client_id, secret)
    except _OAuthError as exc:
        return _error(exc.status, exc.error, str(exc))
    except (ClientRefused, AuthenticationFailed) as exc:
        return _error(HTTPStatus.UNAUTHORIZED, "invalid_client", str(exc))
    except SecurityError as exc:
        return _error(HTTPStatus.UNAUTHORIZED, "invalid_client", f"the client is misconfigured: {exc}")
    return TokenResponse(access_token=access, expires_in=ttl)


class _OAuthError(Exception):
    def __init__(self, status: HTTPStatus, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error


async def _credentials(request: Request) -> tuple[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != FORM_MEDIA_TYPE:
        raise _OAuthError(HTTPStatus.BAD_REQUEST, "invalid_request", f"send the body as {FORM_MEDIA_TYPE}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise _OAuthError(HTTPStatus.BAD_REQUEST, "invalid_request", "the request body is too long")
    try:
        form = parse_qs(body.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        raise _OAuthError(
            HTTPStatus.BAD_REQUEST, "invalid_request", "the body is not a URL-encoded form"
        ) from None
    fields = {k: v[0] for k, v in form.items() if v}
    if fields.get("grant_type") != "client_credentials":
        raise _OAuthError(
            HTTPStatus.BAD_REQUEST, "unsupported_grant_type", "only client_credentials is supported"
        )
    client_id, secret = fields.get("client_id"), fields.get("client_secret")
    basic = _basic(request.headers.get("authorization"))
    if basic is not None:
        client_id, secret = basic
    if not client_id or not secret:
        raise _OAuthError(HTTPStatus.UNAUTHORIZED, "invalid_client", "send client_id and client_secret")
    return client_id, secret


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (client_id, secret) if sep else None


def _error(status: HTTPStatus, error: str, description: str) -> JSONResponse:
    # RFC 6749 error objects, not problem details: OAuth2 client libraries read these.
    headers = {"WWW-Authenticate": 'Basic realm="polestar"'} if status == HTTPStatus.UNAUTHORIZED else None
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers=headers,
    )
