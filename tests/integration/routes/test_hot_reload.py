"""Hot reload: a change applies without a restart; an invalid one is refused and the old version runs on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _downstream import Downstream
from _routes_helpers import custody_event, eventually, http_connector, write

from polestar.bus.sqlite import SqliteEngine
from polestar.model.envelope import Envelope
from polestar.routes.runtime import IntegrationRuntime
from polestar.routes.watcher import ConfigWatcher

ROUTE = """
routes:
  - name: custody-out
    from: {{subjects: ["custody.>"]}}
    steps:
      - step: filter
        expr: "data.suite == '{suite}'"
    to:
      - subject: out.custody.recorded
"""


@pytest.fixture
async def runtime(config_dir: Path, bus: SqliteEngine) -> AsyncIterator[IntegrationRuntime]:
    write(config_dir / "routes" / "custody.yaml", ROUTE.format(suite="Brixton"))
    running = IntegrationRuntime(config_dir, bus)
    await running.start()
    yield running
    await running.stop()


async def _out(bus: SqliteEngine) -> list[str]:
    return [(m.envelope.data or {})["suite"] async for m in bus.read(subjects=["out.custody.recorded"])]


async def _publish(bus: SqliteEngine, number: int, suite: str) -> Envelope:
    event = custody_event(number, suite=suite)
    await bus.publish(event, subject="custody.episode.opened")
    return event


async def _until_out(bus: SqliteEngine, expected: list[str]) -> None:
    for _ in range(500):
        if await _out(bus) == expected:
            return
        await asyncio.sleep(0.02)
    assert await _out(bus) == expected


async def test_a_changed_route_file_applies_without_a_restart(
    runtime: IntegrationRuntime, bus: SqliteEngine, config_dir: Path
) -> None:
    watcher = ConfigWatcher(runtime, debounce=0.1, force_polling=True)
    watcher.start()
    try:
        await _publish(bus, 1, "Brixton")
        await _until_out(bus, ["Brixton"])

        write(config_dir / "routes" / "custody.yaml", ROUTE.format(suite="Wembley"))
        await eventually(lambda: runtime.last_reload is not None and runtime.last_reload.applied)
        assert runtime.last_reload is not None
        assert runtime.last_reload.restarted == ["route custody-out"]

        await _publish(bus, 2, "Brixton")
        await _publish(bus, 3, "Wembley")
        await _until_out(bus, ["Brixton", "Wembley"])
    finally:
        await watcher.stop()


async def test_an_invalid_change_is_refused_with_located_errors_and_the_old_version_keeps_running(
    runtime: IntegrationRuntime, bus: SqliteEngine, config_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = ConfigWatcher(runtime, debounce=0.1, force_polling=True)
    watcher.start()
    route_file = config_dir / "routes" / "custody.yaml"
    try:
        with caplog.at_level(logging.ERROR, logger="polestar.routes"):
            write(route_file, ROUTE.format(suite="Wembley").replace("step: filter", "step: filtre"))
            await eventually(lambda: runtime.last_reload is not None)
        result = runtime.last_reload
        assert result is not None
        assert not result.applied
        [problem] = result.problems
        assert problem.where == f"{route_file}:5:9 routes[0].steps[0]"
        assert "'filtre'" in problem.reason
        assert f"{route_file}:5:9 routes[0].steps[0]" in caplog.text

        await _publish(bus, 1, "Brixton")
        await _publish(bus, 2, "Wembley")
        await _until_out(bus, ["Brixton"])
        assert runtime.route_status("custody-out").state.value == "running"
    finally:
        await watcher.stop()


async def test_reload_restarts_only_what_changed(
    runtime: IntegrationRuntime, bus: SqliteEngine, config_dir: Path, downstream: Downstream
) -> None:
    write(
        config_dir / "routes" / "crime.yaml",
        """
        routes:
          - name: to-crime
            from: {subjects: ["custody.>"]}
            to: [{connector: crime-system}]
        """,
    )
    http_connector(config_dir, downstream.url)
    first = await runtime.reload()
    assert first.applied
    assert first.started == ["connector crime-system", "route to-crime"]
    unchanged = runtime.runner("custody-out")

    http_connector(config_dir, downstream.url, timeout=3)
    second = await runtime.reload()
    assert second.restarted == ["connector crime-system", "route to-crime"]
    assert runtime.runner("custody-out") is unchanged

    (config_dir / "routes" / "crime.yaml").unlink()
    (config_dir / "connectors" / "crime-system.yaml").unlink()
    third = await runtime.reload()
    assert third.stopped == ["connector crime-system", "route to-crime"]
    assert runtime.route_names() == ["custody-out"]

    await _publish(bus, 1, "Brixton")
    await _until_out(bus, ["Brixton"])
