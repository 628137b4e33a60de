from __future__ import annotations

import asyncio

import pytest
from _envelopes import custody_opened

from polestar.bus.worker import Reject
from polestar.errors import MappingFailed
from polestar.mapping.contract import MappingContext
from polestar.model.envelope import Envelope
from polestar.routes.config import ChoiceStep, FilterStep, SetStep, SplitStep, ThrottleStep
from polestar.routes.steps.choice import ContentRouter
from polestar.routes.steps.filter import Filter
from polestar.routes.steps.split import Split
from polestar.routes.steps.throttle import Throttle
from polestar.routes.steps.transform import MapWithFunction, MapWithMapping, SetFields


async def test_filter_keeps_matching_messages_and_drops_the_rest() -> None:
    keep_custody = Filter(FilterStep(expr="data.kind == 'custody'"))
    custody = custody_opened()
    other = custody_opened(data_kind="x").model_copy(update={"data": {"kind": "crime"}})

    assert await keep_custody(custody) == [custody]
    assert await keep_custody(other) == []


async def test_filter_treats_zero_as_true_like_jmespath() -> None:
    assert await Filter(FilterStep(expr="data.count"))(custody_opened(count=0))
    assert not await Filter(FilterStep(expr="data.missing"))(custody_opened())
    assert not await Filter(FilterStep(expr="data.empty"))(custody_opened(empty=[]))


async def test_a_filter_expression_failing_on_a_message_dead_letters_it_with_the_reason() -> None:
    step = Filter(FilterStep(expr="length(data.custody_record_number) > data.kind"))
    with pytest.raises(Reject, match="filter: expression"):
        await step(custody_opened())


async def test_set_writes_data_paths_and_envelope_attributes() -> None:
    step = SetFields(
        SetStep(
            values={"data.routing.by": "'polestar'", "partitionkey": "data.kind", "data.kind": "'CUSTODY'"}
        )
    )
    source = custody_opened()
    [result] = await step(source)

    assert result.id == source.id
    assert result.partitionkey == "custody"
    assert result.data == {**(source.data or {}), "kind": "CUSTODY", "routing": {"by": "polestar"}}
    assert source.data is not None
    assert source.data["kind"] == "custody"  # the input is unchanged


async def test_set_refuses_a_value_the_envelope_cannot_hold() -> None:
    step = SetFields(SetStep(values={"type": "'not an event type'"}))
    with pytest.raises(MappingFailed, match="type"):
        await step(custody_opened())


async def test_map_function_results_are_caused_by_the_input_with_derived_ids_and_its_marking() -> None:
    def minimise(envelope: Envelope) -> Envelope:
        return Envelope(
            source="/fn",
            type="custody.episode.minimised",
            data={"ref": (envelope.data or {})["custody_record_number"]},
        )

    step = MapWithFunction(minimise, route="r", index=0)
    source = custody_opened()
    [first] = await step(source)
    [again] = await step(source)

    assert first.data == {"ref": "01CX/000001/26"}
    assert first.causationid == source.id
    assert first.correlationid == source.id
    assert first.classification == source.classification
    assert first.partitionkey == source.partitionkey
    assert first.id == again.id != source.id


async def test_map_function_may_filter_or_return_several() -> None:
    assert await MapWithFunction(lambda _: None, route="r", index=0)(custody_opened()) == []
    two = await MapWithFunction(lambda e: [e, e], route="r", index=0)(custody_opened())
    assert len({e.id for e in two}) == 2


async def test_map_function_may_be_async() -> None:
    async def same(envelope: Envelope) -> Envelope:
        return envelope

    source = custody_opened()
    assert await MapWithFunction(same, route="r", index=0)(source) == [source]


class UppercaseSuite:
    """A canonical-to-canonical mapping: a small real InboundMapping."""

    name = "uppercase-suite"

    def to_canonical(self, record: dict, context: MappingContext) -> list[Envelope]:
        if "suite" not in record:
            raise MappingFailed("no suite", field="suite", where=context.where)
        return [
            Envelope(
                source=context.source,
                type="custody.suite.recorded",
                data={"suite": record["suite"].upper()},
                correlationid=context.correlationid,
            )
        ]


async def test_map_with_a_mapping_transforms_data_and_names_the_event_when_it_fails() -> None:
    step = MapWithMapping(UppercaseSuite, route="r", index=2)
    [mapped] = await step(custody_opened(suite="Brixton"))
    assert mapped.data == {"suite": "BRIXTON"}
    assert mapped.source == "/routes/r"

    source = custody_opened()
    with pytest.raises(MappingFailed, match=f"event {source.id}"):
        await step(source)


async def test_split_makes_one_event_per_item_with_ids_derived_from_the_input() -> None:
    step = Split(SplitStep(expr="data.people"), route="r", index=0)
    source = custody_opened(people=[{"surname": "Okafor"}, {"surname": "Evans"}, "unknown"])
    parts = await step(source)
    again = await step(source)

    assert [p.data for p in parts] == [{"surname": "Okafor"}, {"surname": "Evans"}, {"item": "unknown"}]
    assert [p.id for p in parts] == [p.id for p in again]
    assert len({p.id for p in parts}) == 3
    assert all(p.causationid == source.id and p.classification == source.classification for p in parts)


async def test_split_of_nothing_filters_and_of_a_non_array_dead_letters() -> None:
    step = Split(SplitStep(expr="data.people"), route="r", index=0)
    assert await step(custody_opened()) == []
    with pytest.raises(Reject, match="not an array"):
        await step(custody_opened(people="Okafor"))


def test_choice_picks_the_first_matching_branch_else_otherwise() -> None:
    router = ContentRouter(
        ChoiceStep.model_validate(
            {
                "when": [
                    {"expr": "data.grade == 'immediate'", "to": ["crime", "supervisors"]},
                    {"expr": "data.grade == 'priority'", "to": "crime"},
                ],
                "otherwise": "archive",
            }
        )
    )
    assert router.select(custody_opened(grade="immediate")) == ("crime", "supervisors")
    assert router.select(custody_opened(grade="priority")) == ("crime",)
    assert router.select(custody_opened(grade="routine")) == ("archive",)


def test_throttle_lets_a_burst_through_then_one_per_interval() -> None:
    now = [100.0]
    throttle = Throttle(ThrottleStep(rate=2, burst=3), clock=lambda: now[0])
    waits = [throttle.reserve() for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 1.0]
    now[0] += 10
    assert throttle.reserve() == 0.0


async def test_throttle_delays_messages_to_the_rate() -> None:
    throttle = Throttle(ThrottleStep(rate=20, burst=1))
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(5):
        await throttle(custody_opened())
    assert loop.time() - started >= 0.19
