"""Steps that need the bus: aggregate, split, enrich, wiretap and choice, through a running route."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from _routes_helpers import custody_event, dead_letters_of, eventually, write

from polestar.bus.sqlite import SqliteEngine
from polestar.model.envelope import Envelope
from polestar.routes.runtime import IntegrationRuntime

Start = Callable[[str], Awaitable[IntegrationRuntime]]


@pytest.fixture
async def start(config_dir: Path, bus: SqliteEngine) -> AsyncIterator[Start]:
    started: list[IntegrationRuntime] = []

    async def run(routes_yaml: str) -> IntegrationRuntime:
        write(config_dir / "routes" / "r.yaml", routes_yaml)
        runtime = IntegrationRuntime(config_dir, bus)
        await runtime.start()
        started.append(runtime)
        return runtime

    yield run
    for runtime in started:
        await runtime.stop()


async def _published(bus: SqliteEngine, subject: str) -> list[Envelope]:
    return [m.envelope async for m in bus.read(subjects=[subject])]


async def _wait_for(bus: SqliteEngine, subject: str, count: int, timeout: float = 10) -> list[Envelope]:
    found: list[Envelope] = []

    async def check() -> bool:
        nonlocal found
        found = await _published(bus, subject)
        return len(found) >= count

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{len(found)} of {count} events on {subject}")
        await asyncio.sleep(0.02)
    return found


AGGREGATE = """
routes:
  - name: suite-batches
    from: {{subjects: ["custody.>"], backoff: {{initial: 0.1, jitter: 0}}}}
    steps:
      - step: aggregate
        key: data.suite
        {completion}
    to:
      - subject: batch.custody.recorded
"""


async def test_aggregate_completes_by_size_and_acknowledges_its_inputs(
    start: Start, bus: SqliteEngine
) -> None:
    runtime = await start(AGGREGATE.format(completion="size: 3"))
    for number in range(1, 7):
        suite = "Brixton" if number % 2 else "Wembley"
        await bus.publish(custody_event(number, suite=suite), subject="custody.episode.opened")

    batches = await _wait_for(bus, "batch.custody.recorded", 2)
    assert sorted((b.data or {})["key"] for b in batches) == ["Brixton", "Wembley"]
    assert all((b.data or {})["count"] == 3 for b in batches)
    counters = runtime.route_counters["suite-batches"]
    await eventually(lambda: counters.aggregated == 4 and counters.delivered == 2)
    stats = await bus.stats()
    [group] = [g for g in stats.groups if g.group == "route-suite-batches"]
    assert group.pending == 0
    assert group.in_flight == 0


async def test_aggregate_completes_by_time_with_what_it_has(start: Start, bus: SqliteEngine) -> None:
    await start(AGGREGATE.format(completion="size: 10\n        timeout: 0.3"))
    await bus.publish(custody_event(1, suite="Brixton"), subject="custody.episode.opened")
    await bus.publish(custody_event(2, suite="Brixton"), subject="custody.episode.opened")

    [batch] = await _wait_for(bus, "batch.custody.recorded", 1)
    assert batch.data is not None
    assert batch.data["completion"] == "timeout"
    assert batch.data["count"] == 2


async def test_a_partial_aggregate_is_completed_when_the_route_stops(start: Start, bus: SqliteEngine) -> None:
    runtime = await start(AGGREGATE.format(completion="size: 10"))
    await bus.publish(custody_event(1, suite="Brixton"), subject="custody.episode.opened")
    await eventually(lambda: runtime.route_counters["suite-batches"].received == 1)
    await runtime.stop()

    [batch] = await _published(bus, "batch.custody.recorded")
    assert (batch.data or {})["completion"] == "stop"


async def test_split_publishes_one_event_per_item_caused_by_the_input(
    start: Start, bus: SqliteEngine
) -> None:
    await start(
        """
        routes:
          - name: split-people
            from: {subjects: ["custody.>"]}
            steps:
              - step: split
                expr: data.people
                type: custody.person.recorded
            to:
              - subject: person.custody.recorded
        """
    )
    source = custody_event(1, people=[{"surname": "Okafor"}, {"surname": "Evans"}])
    await bus.publish(source, subject="custody.episode.opened")

    parts = await _wait_for(bus, "person.custody.recorded", 2)
    assert [(p.data or {})["surname"] for p in parts] == ["Okafor", "Evans"]
    assert all(p.type == "custody.person.recorded" and p.correlationid == source.id for p in parts)


ENRICH = """
routes:
  - name: pnc-check
    from: {{subjects: ["custody.>"], max_attempts: {attempts}, backoff: {{initial: 0.1, jitter: 0}}}}
    steps:
      - step: enrich
        subject: pnc.person.check
        request: "{{surname: data.surname}}"
        type: pnc.person.queried
        into: pnc
        timeout: 0.3
        on_timeout: {on_timeout}
    to:
      - subject: checked.custody.recorded
"""


async def test_enrich_asks_over_the_bus_and_adds_the_answer(start: Start, bus: SqliteEngine) -> None:
    asked: list[Envelope] = []

    async def pnc(request: Envelope) -> Envelope:
        asked.append(request)
        return request.caused(
            source="/sims/pnc",
            type="pnc.person.answered",
            data={"wanted": False, "surname": (request.data or {})["surname"].upper()},
        )

    responder = await bus.serve("pnc.person.check", pnc)
    try:
        await start(ENRICH.format(attempts=3, on_timeout="fail"))
        source = custody_event(1, surname="Okafor")
        await bus.publish(source, subject="custody.episode.opened")
        [checked] = await _wait_for(bus, "checked.custody.recorded", 1)
    finally:
        await responder.close()

    assert (checked.data or {})["pnc"] == {"wanted": False, "surname": "OKAFOR"}
    assert asked[0].type == "pnc.person.queried"
    assert asked[0].data == {"surname": "Okafor"}
    assert asked[0].causationid == source.id


async def test_enrich_without_an_answer_retries_then_dead_letters(start: Start, bus: SqliteEngine) -> None:
    runtime = await start(ENRICH.format(attempts=2, on_timeout="fail"))
    await bus.publish(custody_event(1, surname="Okafor"), subject="custody.episode.opened")

    [letter] = await dead_letters_of(bus, "route-pnc-check")
    assert runtime.route_counters["pnc-check"].dead_lettered == 1
    assert "enrich from pnc.person.check" in letter.reason


async def test_enrich_may_carry_on_without_an_answer(start: Start, bus: SqliteEngine) -> None:
    await start(ENRICH.format(attempts=2, on_timeout="skip"))
    await bus.publish(custody_event(1, surname="Okafor"), subject="custody.episode.opened")

    [checked] = await _wait_for(bus, "checked.custody.recorded", 1)
    assert "pnc" not in (checked.data or {})


async def test_choice_and_wiretap_send_each_message_where_its_content_says(
    start: Start, bus: SqliteEngine
) -> None:
    runtime = await start(
        """
        routes:
          - name: by-grade
            from: {subjects: ["custody.>"]}
            steps:
              - step: wiretap
                subject: audit.route.tapped
              - step: choice
                when:
                  - expr: "data.grade == 'immediate'"
                    to: [urgent, everything]
                  - expr: "data.grade == 'routine'"
                    to: everything
            to:
              - {name: urgent, subject: urgent.custody.recorded}
              - {name: everything, subject: all.custody.recorded}
        """
    )
    for number, grade in enumerate(["immediate", "routine", "unknown"], start=1):
        await bus.publish(custody_event(number, grade=grade), subject="custody.episode.opened")

    await _wait_for(bus, "audit.route.tapped", 3)
    urgent = await _wait_for(bus, "urgent.custody.recorded", 1)
    everything = await _wait_for(bus, "all.custody.recorded", 2)
    assert [(e.data or {})["grade"] for e in urgent] == ["immediate"]
    assert sorted((e.data or {})["grade"] for e in everything) == ["immediate", "routine"]
    await eventually(lambda: runtime.route_counters["by-grade"].filtered == 1)
