"""``/routes`` and ``/connectors`` over HTTP: status, counters and reload, for operators.

Mount it with ``app.include_router(create_routes_router(runtime))``. A reload
whose configuration is invalid changes nothing and answers ``422`` as
``application/problem+json`` listing every problem with its place.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from polestar.routes.counters import ConnectorStatus, RouteStatus
from polestar.routes.reload import ConfigProblem, ReloadResult
from polestar.routes.runtime import IntegrationRuntime

PROBLEM_MEDIA_TYPE = "application/problem+json"
CONFIG_INVALID_PROBLEM_TYPE = "urn:polestar:problem:config-invalid"

RouteName = Annotated[str, Path(min_length=1, max_length=64, description="The route's name.")]


class RouteList(BaseModel):
    """Every configured route."""

    model_config = ConfigDict(extra="forbid")

    routes: list[RouteStatus]


class ConnectorList(BaseModel):
    """Every configured connector."""

    model_config = ConfigDict(extra="forbid")

    connectors: list[ConnectorStatus]


class ConfigProblemDocument(BaseModel):
    """RFC 9457 problem details for a configuration that was refused."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(default=CONFIG_INVALID_PROBLEM_TYPE)
    title: str = Field(default=HTTPStatus.UNPROCESSABLE_ENTITY.phrase)
    status: int = Field(default=HTTPStatus.UNPROCESSABLE_ENTITY)
    detail: str
    instance: str | None = None
    problems: list[ConfigProblem] = Field(description="Each problem: `FILE:LINE:COL path` and why.")


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    HTTPStatus.NOT_FOUND: {"description": "No route has this name"}
}
_INVALID: dict[int | str, dict[str, Any]] = {
    HTTPStatus.UNPROCESSABLE_ENTITY: {
        "model": ConfigProblemDocument,
        "description": "The configuration is invalid; the running version carries on",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    }
}


def create_routes_router(runtime: IntegrationRuntime) -> APIRouter:
    """The operator API for ``runtime``'s routes and connectors."""
    router = APIRouter(tags=["routes"])

    @router.get("/routes", summary="List routes with their state and counters")
    async def list_routes() -> RouteList:
        return RouteList(routes=runtime.route_statuses())

    @router.get("/routes/{name}", summary="Show one route", responses=_NOT_FOUND)
    async def show_route(name: RouteName) -> RouteStatus:
        try:
            return runtime.route_status(name)
        except KeyError:
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no route is named {name!r}") from None

    @router.post(
        "/routes/reload",
        summary="Reload connectors, mappings and routes from the config folder",
        description=(
            "Validates the whole folder; if it is valid, applies the difference (unchanged routes "
            "and connectors keep running). If not, nothing changes and every problem is listed."
        ),
        responses=_INVALID,
        response_model=ReloadResult,
    )
    async def reload_routes() -> ReloadResult | JSONResponse:
        result = await runtime.reload()
        if result.applied:
            return result
        problem = ConfigProblemDocument(
            detail=f"the configuration has {len(result.problems)} problem(s); nothing was changed",
            instance="/routes/reload",
            problems=result.problems,
        )
        return JSONResponse(
            problem.model_dump(mode="json"),
            status_code=HTTPStatus.UNPROCESSABLE_ENTITY,
            media_type=PROBLEM_MEDIA_TYPE,
        )

    @router.get("/connectors", summary="List connectors with their state and counters")
    async def list_connectors() -> ConnectorList:
        return ConnectorList(connectors=runtime.connector_statuses())

    return router
