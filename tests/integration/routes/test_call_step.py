"""The ``call`` step: request/reply with a real system through its connector, keeping the answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _routes_helpers import dead_letters_of, write

from polestar.bus.sqlite import SqliteEngine
from polestar.connectors.registry import default_registry
from polestar.errors import ConfigError
from polestar.model.envelope import Envelope
from polestar.routes.loader import load_integration_config
from polestar.routes.runtime import IntegrationRuntime
from polestar.sims import crime
from polestar.sims.serving import serve

REPORT = {
    "offence": "theft",
    "occurredFrom": "2026-11-23T21:05:00",
    "summary": "phone snatched outside the station",
    "reportingOfficer": "Contact centre",
    "location": {"street": "431 Strand", "town": "London"},
}
ROUTE = """
routes:
  - name: drafts
    from: {subjects: ["crime.report.drafted"], max_attempts: 2, backoff: {initial: 0.1, jitter: 0}}
    steps:
      - step: call
        connector: crime-recording
        into: answer.crime_recording
    to:
      - subject: crime.reference.assigned
"""


@pytest.fixture
async def crime_recording() -> AsyncIterator[str]:
    async with serve(crime.create_app()) as url:
        yield url


@pytest.fixture
async def runtime(
    config_dir: Path, bus: SqliteEngine, crime_recording: str
) -> AsyncIterator[IntegrationRuntime]:
    write(
        config_dir / "connectors" / "crime.yaml",
        f"""
        connectors:
          - name: crime-recording
            kind: http
            format: json
            outbound: {{url: "{crime_recording}/crime-reports", timeout: 5}}
        """,
    )
    write(config_dir / "routes" / "r.yaml", ROUTE)
    running = IntegrationRuntime(config_dir, bus)
    await running.start()
    yield running
    await running.stop()


def _draft(**report: object) -> Envelope:
    return Envelope(source="/test", type="crime.report.drafted", subject="CH-1", data={**REPORT, **report})


async def test_the_systems_answer_is_kept_in_data_for_the_steps_after_the_call(
    runtime: IntegrationRuntime, bus: SqliteEngine
) -> None:
    del runtime
    sent = _draft()
    await bus.publish(sent)

    async def published() -> list[Envelope]:
        return [m.envelope async for m in bus.read(subjects=["crime.reference.assigned"])]

    found: list[Envelope] = []

    async def arrived() -> bool:
        found[:] = await published()
        return bool(found)

    await eventually_async(arrived)
    data = found[0].data or {}
    answer = data["answer"]["crime_recording"]
    assert answer["status"] == 201
    assert answer["body"]["crimeReference"].startswith("CRI-")
    assert answer["reference"] == f"/crime-reports/{answer['body']['crimeReference']}"
    assert data["summary"] == REPORT["summary"], "the rest of the event is kept"
    assert "answer" not in (sent.data or {}), "the message received is left as it was"


async def test_a_refusal_dead_letters_the_message_with_the_systems_reasons(
    runtime: IntegrationRuntime, bus: SqliteEngine
) -> None:
    del runtime
    await bus.publish(_draft(offence="", colour="red"))
    (dead,) = await dead_letters_of(bus, "route-drafts")
    assert "422" in dead.reason
    assert "offence" in dead.reason
    assert "colour" in dead.reason


def test_a_call_to_a_connector_that_does_not_exist_is_a_located_problem(config_dir: Path) -> None:
    write(config_dir / "routes" / "r.yaml", ROUTE)
    with pytest.raises(ConfigError) as caught:
        load_integration_config(config_dir, default_registry(), variables={})
    (problem,) = caught.value.problems
    assert problem[0].startswith(str(config_dir / "routes" / "r.yaml") + ":6:")
    assert "no connector is named 'crime-recording'" in problem[1]


async def eventually_async(check, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.02)
