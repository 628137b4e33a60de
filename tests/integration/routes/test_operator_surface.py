"""The operator surface: the routes API on a bare FastAPI app, and `polestar routes` against it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from _downstream import Downstream
from _routes_helpers import custody_event, eventually, http_connector, write
from fastapi import FastAPI
from typer.testing import CliRunner

from polestar.bus.sqlite import SqliteEngine
from polestar.cli.routes import app as routes_cli
from polestar.routes.api import create_routes_router
from polestar.routes.runtime import IntegrationRuntime

ROUTE = """
routes:
  - name: custody-to-crime
    description: Custody episodes to crime recording
    from: {subjects: ["custody.>"], max_attempts: 2, backoff: {initial: 0.05, jitter: 0}}
    steps:
      - step: filter
        expr: "data.suite != 'Lewisham'"
    to:
      - connector: crime-system
        circuit_breaker: {failure_threshold: 10}
"""


@pytest.fixture
async def runtime(
    config_dir: Path, bus: SqliteEngine, downstream: Downstream
) -> AsyncIterator[IntegrationRuntime]:
    http_connector(config_dir, downstream.url)
    write(config_dir / "routes" / "custody.yaml", ROUTE)
    running = IntegrationRuntime(config_dir, bus)
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
async def api(runtime: IntegrationRuntime) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(create_routes_router(runtime))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        yield client


async def _traffic(bus: SqliteEngine, downstream: Downstream, runtime: IntegrationRuntime) -> None:
    await bus.publish(custody_event(1, suite="Brixton"), subject="custody.episode.opened")
    await bus.publish(custody_event(2, suite="Lewisham"), subject="custody.episode.opened")
    await eventually(lambda: len(downstream.received) == 1)
    downstream.failing(422)
    await bus.publish(custody_event(3, suite="Brixton"), subject="custody.episode.opened")
    await eventually(lambda: runtime.route_counters["custody-to-crime"].dead_lettered == 1)


async def test_routes_and_connectors_show_state_and_counters(
    api: httpx.AsyncClient, bus: SqliteEngine, downstream: Downstream, runtime: IntegrationRuntime
) -> None:
    await _traffic(bus, downstream, runtime)

    listed = (await api.get("/routes")).json()["routes"]
    [route] = listed
    assert route["name"] == "custody-to-crime"
    assert route["state"] == "running"
    assert route["counters"] | {"last_error": None} == {
        "in": 3,
        "out": 1,
        "filtered": 1,
        "aggregated": 0,
        "failed": 1,
        "dead_lettered": 1,
        "last_error": None,
    }
    assert "422" in route["counters"]["last_error"]["text"]

    shown = (await api.get("/routes/custody-to-crime")).json()
    assert shown["group"] == "route-custody-to-crime"
    assert shown["steps"] == ["filter data.suite != 'Lewisham'"]
    assert shown["outputs"] == [
        {"name": "crime-system", "connector": "crime-system", "subject": None, "circuit": "closed"}
    ]
    assert shown["file"].endswith("routes/custody.yaml")

    [connector] = (await api.get("/connectors")).json()["connectors"]
    assert connector["name"] == "crime-system"
    assert connector["kind"] == "http"
    assert connector["outbound"] is True
    assert connector["counters"]["out"] == 1
    assert connector["counters"]["dead_lettered"] == 1


async def test_an_unknown_route_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/routes/nope")
    assert response.status_code == 404


async def test_reload_applies_a_valid_change_and_refuses_an_invalid_one_as_problem_json(
    api: httpx.AsyncClient, config_dir: Path
) -> None:
    write(config_dir / "routes" / "custody.yaml", ROUTE.replace("Lewisham", "Croydon"))
    applied = await api.post("/routes/reload")
    assert applied.status_code == 200
    assert applied.json()["restarted"] == ["route custody-to-crime"]

    route_file = config_dir / "routes" / "custody.yaml"
    write(route_file, ROUTE.replace("connector: crime-system", "connector: pnc"))
    refused = await api.post("/routes/reload")
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["type"] == "urn:polestar:problem:config-invalid"
    assert body["problems"] == [
        {
            "where": f"{route_file}:9:20 routes[0].to[0].connector",
            "reason": "no connector is named 'pnc'; known: crime-system",
        }
    ]
    assert (await api.get("/routes/custody-to-crime")).json()["steps"] == ["filter data.suite != 'Croydon'"]


# -- the CLI against a running hub ---------------------------------------------------------------


@pytest.fixture
async def hub(runtime: IntegrationRuntime) -> AsyncIterator[str]:
    app = FastAPI()
    app.include_router(create_routes_router(runtime))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: server.started)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    sock.close()


async def _cli(*args: str) -> tuple[int, str]:
    # The CLI is synchronous; the hub runs in this loop, so the CLI runs in a thread.
    result = await asyncio.to_thread(CliRunner(env={"COLUMNS": "200"}).invoke, routes_cli, list(args))
    return result.exit_code, result.output


async def test_cli_lists_shows_and_reloads_through_the_api(
    hub: str, bus: SqliteEngine, downstream: Downstream, runtime: IntegrationRuntime, config_dir: Path
) -> None:
    await _traffic(bus, downstream, runtime)

    code, output = await _cli("list", "--hub", hub)
    assert code == 0, output
    assert "custody-to-crime" in output
    assert "running" in output

    code, output = await _cli("show", "custody-to-crime", "--hub", hub)
    assert code == 0, output
    assert "in 3, out 1, filtered 1, aggregated 0, failed 1, dead-lettered 1" in output
    assert "→ crime-system: connector crime-system, circuit closed" in output

    code, output = await _cli("show", "nope", "--hub", hub)
    assert code == 1
    assert "no route is named 'nope'" in output

    code, output = await _cli("reload", "--hub", hub)
    assert code == 0, output
    assert "nothing changed" in output

    route_file = config_dir / "routes" / "custody.yaml"
    write(route_file, ROUTE.replace("max_attempts: 2", "max_attempts: 0"))
    code, output = await _cli("reload", "--hub", hub)
    assert code == 1
    assert f"{route_file}:4:51 routes[0].from.max_attempts" in output


async def test_cli_says_when_the_hub_cannot_be_reached() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, output = await _cli("list", "--hub", f"http://127.0.0.1:{port}")
    assert code == 1
    assert "cannot reach the hub" in output
