"""Errors as RFC 9457 problem details: ``application/problem+json``, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"
VALIDATION_PROBLEM_TYPE = "urn:polestar:problem:request-invalid"

_log = logging.getLogger("polestar.api")


class InvalidParameter(BaseModel):
    """One reason a request was refused: where in the request, and why."""

    model_config = ConfigDict(extra="forbid")

    loc: list[str | int] = Field(description="Where: body, query, path or header, then the field path.")
    msg: str = Field(description="Why, in words.")
    type: str = Field(description="A stable code for the kind of problem, e.g. missing.")


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(
        default="about:blank",
        description="A URI naming the kind of problem; about:blank means the HTTP status says it all.",
        examples=["about:blank", VALIDATION_PROBLEM_TYPE],
    )
    title: str = Field(description="A short summary of the kind of problem.", examples=["Not Found"])
    status: int = Field(ge=400, le=599, description="The HTTP status code.", examples=[404])
    detail: str | None = Field(default=None, description="What went wrong with this request.")
    instance: str | None = Field(default=None, description="The request path the problem occurred on.")
    errors: list[InvalidParameter] | None = Field(
        default=None, description="For invalid requests: each problem found."
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": HTTPStatus(status).phrase}
    for status in (HTTPStatus.UNPROCESSABLE_ENTITY, HTTPStatus.INTERNAL_SERVER_ERROR)
}
"""OpenAPI ``responses`` entries for routes: how their errors look."""


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    problem_type: str = "about:blank",
    errors: list[InvalidParameter] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem details response for ``status``."""
    problem = Problem(
        type=problem_type,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers) if headers else None,
    )


async def _http_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if exc.detail != HTTPStatus(exc.status_code).phrase else None
    return problem_response(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


async def _validation_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is not echoed back: it may be personal data, and the caller has it.
    errors = [
        InvalidParameter(loc=list(error["loc"]), msg=error["msg"], type=error["type"])
        for error in exc.errors()
    ]
    return problem_response(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        f"the request has {len(errors)} problem(s)",
        instance=request.url.path,
        problem_type=VALIDATION_PROBLEM_TYPE,
        errors=errors,
    )


async def _unexpected_problem(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        HTTPStatus.INTERNAL_SERVER_ERROR,
        "the hub could not complete the request; the error has been logged",
        instance=request.url.path,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error ``app`` returns a problem details document."""
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(Exception, _unexpected_problem)
