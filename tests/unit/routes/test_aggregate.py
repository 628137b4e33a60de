from __future__ import annotations

import asyncio

import pytest
from _envelopes import custody_opened

from polestar.bus.worker import Reject
from polestar.errors import DeliveryFailed, DeliveryRefused
from polestar.model.envelope import Envelope
from polestar.routes.config import AggregateStep
from polestar.routes.settlement import settlement_scope
from polestar.routes.steps.aggregate import Aggregator


async def _through(step: Aggregator, envelope: Envelope, fate: BaseException | None = None) -> list[Envelope]:
    """One message as the runner handles it: the step, then its settlement."""
    with settlement_scope() as settlement:
        try:
            made = list(await step(envelope))
        except Exception as exc:
            settlement.settled(exc)
            raise
        settlement.settled(fate if made else None)
        return made


def _suite(number: int, suite: str = "Brixton") -> Envelope:
    return custody_opened(number, suite=suite)


async def test_size_completes_the_aggregate_and_every_input_is_released_once_it_is_delivered() -> None:
    step = Aggregator(AggregateStep(key="data.suite", size=3), route="r", index=0)
    tasks = [asyncio.create_task(_through(step, _suite(n))) for n in range(1, 4)]
    results = await asyncio.gather(*tasks)

    aggregates = [made for made in results if made]
    assert len(aggregates) == 1
    [aggregate] = aggregates[0]
    assert aggregate.data is not None
    assert aggregate.data["count"] == 3
    assert aggregate.data["completion"] == "size"
    assert aggregate.data["key"] == "Brixton"
    assert [i["custody_record_number"] for i in aggregate.data["items"]] == [
        "01CX/000001/26",
        "01CX/000002/26",
        "01CX/000003/26",
    ]
    assert step.open_aggregates == 0


async def test_keys_are_gathered_apart() -> None:
    step = Aggregator(AggregateStep(key="data.suite", size=2), route="r", index=0)
    tasks = [
        asyncio.create_task(_through(step, _suite(1, "Brixton"))),
        asyncio.create_task(_through(step, _suite(2, "Wembley"))),
        asyncio.create_task(_through(step, _suite(3, "Brixton"))),
        asyncio.create_task(_through(step, _suite(4, "Wembley"))),
    ]
    made = [m for r in await asyncio.gather(*tasks) for m in r]
    assert sorted(m.data["key"] for m in made if m.data) == ["Brixton", "Wembley"]


async def test_timeout_completes_a_partial_aggregate() -> None:
    step = Aggregator(AggregateStep(key="data.suite", size=10, timeout=0.2), route="r", index=0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(_through(step, _suite(1)), _through(step, _suite(2)))
    [aggregate] = [m for r in results for m in r]
    assert aggregate.data is not None
    assert aggregate.data["completion"] == "timeout"
    assert aggregate.data["count"] == 2
    assert loop.time() - started >= 0.19


async def test_the_same_inputs_make_the_same_aggregate_id() -> None:
    async def gather_once() -> str:
        step = Aggregator(AggregateStep(key="data.suite", size=2), route="r", index=0)
        results = await asyncio.gather(_through(step, first), _through(step, second))
        return next(m for r in results for m in r).id

    first, second = _suite(1), _suite(2)
    assert await gather_once() == await gather_once()


async def test_when_the_aggregate_fails_every_input_fails_so_all_are_redelivered() -> None:
    step = Aggregator(AggregateStep(key="data.suite", size=2), route="r", index=0)
    opener = asyncio.create_task(_through(step, _suite(1)))
    await asyncio.sleep(0.01)
    down = DeliveryFailed("warehouse down", retry_after=5)
    completer = asyncio.create_task(_through(step, _suite(2), fate=down))
    with pytest.raises(DeliveryFailed, match="not delivered: warehouse down") as failed:
        await opener
    assert failed.value.retry_after == 5
    assert await completer  # the completing input carried the aggregate; the runner nacks it


async def test_when_the_aggregate_is_refused_every_input_is_dead_lettered() -> None:
    step = Aggregator(AggregateStep(key="data.suite", size=2), route="r", index=0)
    opener = asyncio.create_task(_through(step, _suite(1)))
    await asyncio.sleep(0.01)
    await _through(step, _suite(2), fate=DeliveryRefused("bad row"))
    with pytest.raises(Reject, match="dead-lettered: bad row"):
        await opener


async def test_close_completes_partial_aggregates_early() -> None:
    step = Aggregator(AggregateStep(key="data.suite", size=10), route="r", index=0)
    waiting = asyncio.create_task(_through(step, _suite(1)))
    await asyncio.sleep(0.01)
    step.close()
    [aggregate] = await waiting
    assert aggregate.data is not None
    assert aggregate.data["completion"] == "stop"


async def test_a_preview_aggregates_one_message_at_once() -> None:
    step = Aggregator(AggregateStep(key="data.suite", size=10), route="r", index=0, preview=True)
    [aggregate] = await step(_suite(1))
    assert aggregate.data is not None
    assert aggregate.data["completion"] == "preview"
