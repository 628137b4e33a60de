"""Schemathesis against the generated OpenAPI document, with a valid token: no 5xx, no schema breaks.

Bounded on purpose (a few examples per operation, derandomised): it is a guard in the
suite, not a fuzzing campaign. The hub is served by uvicorn on a free port in a thread
of its own, and every request goes over real HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from polestar.api import create_app
from polestar.config import HubConfig
from polestar.security.testing import auth_headers

EXAMPLES_PER_OPERATION = 6
ANSWERED: list[tuple[str, int]] = []
"""Every status the checks saw: proof the run exercised the API rather than skipping it."""


def no_undocumented_server_error(ctx, response, case) -> bool | None:  # type: ignore[no-untyped-def]
    """Any 5xx fails, except a 503 the operation documents (a dependency it needs is not running)."""
    ANSWERED.append((case.operation.path, response.status_code))
    documented = case.operation.definition.raw.get("responses", {})
    if response.status_code == 503 and "503" in documented:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_undocumented_server_error, response_schema_conformance, content_type_conformance]


class _ThreadServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the test's thread owns the signals


@contextlib.contextmanager
def _serving(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = _ThreadServer(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the hub stopped while starting"
        assert time.monotonic() < deadline, "the hub did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _wait_until_ready(url: str) -> None:
    # /ready answers 503 (documented) while components start; the contract run starts once it is 200.
    deadline = time.monotonic() + 30
    while httpx.get(f"{url}/ready", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, httpx.get(f"{url}/ready", timeout=5).text
        time.sleep(0.1)


def _config(tmp_path: Path) -> HubConfig:
    folder = tmp_path / "integration"
    for part in ("connectors", "mappings", "routes"):
        (folder / part).mkdir(parents=True)
    (folder / "connectors" / "cad.yaml").write_text(
        "connectors:\n"
        "  - {name: cad, kind: http, format: cloudevents, subject: incident.reported, inbound: {}}\n"
    )
    return HubConfig(
        data_dir=tmp_path / "data",
        integration_dir=folder,
        security={"rate_limit": {"requests_per_second": 10_000, "burst": 100_000}},
    )


@pytest.mark.slow
def test_the_api_keeps_its_openapi_contract_under_generated_requests(tmp_path: Path) -> None:
    config = _config(tmp_path)
    app = create_app(config)
    headers = auth_headers(config, purpose="schemathesis contract run")
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    with _serving(app) as url:
        _wait_until_ready(url)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 10
        started = time.monotonic()
        for operation in operations:

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def exercise(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(base_url=url, headers=headers, checks=CHECKS, timeout=10)

            try:
                exercise()
            except (
                Exception,
                BaseExceptionGroup,
            ) as exc:  # every operation is tried; failures reported together
                failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
        elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert len(ANSWERED) >= 2 * len(operations)
    refused = {path for path, status in ANSWERED if status == 401 and path != "/oauth/token"}
    assert not refused, f"the valid token was refused on {sorted(refused)}"
    assert any(200 <= status < 300 for _, status in ANSWERED)
    assert elapsed < 60, f"the contract run took {elapsed:.0f} s"
