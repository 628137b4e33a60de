"""StoreWriter on a real embedded bus: events into the store once each, misfits to the dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from _store_helpers import crime, event, link, person
from sqlalchemy import select

from polestar.bus.config import SqliteBusConfig
from polestar.bus.sqlite import SqliteEngine
from polestar.store import StoreWriter
from polestar.store.tables import applied_messages


@pytest.fixture
async def bus(tmp_path):
    engine = SqliteEngine(SqliteBusConfig(path=tmp_path / "bus.sqlite3", poll_interval=0.02))
    await engine.start()
    yield engine
    await engine.close()


async def run_until(writer: StoreWriter, done: Callable[[], Awaitable[bool]], timeout: float = 10.0):
    stop = asyncio.Event()
    task = asyncio.create_task(writer.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while not await done():  # noqa: ASYNC110 - polling the store: it has no event to wait on
                await asyncio.sleep(0.02)
    finally:
        stop.set()
    return await asyncio.wait_for(task, timeout)


async def test_events_on_the_bus_are_written_into_the_store(bus, store):
    p, k = person("p-1"), crime("k-1")
    for entity in (p, k, person("p-1", version=2, family="Jones", at=5), link("l-1", "suspect", p, k)):
        await bus.publish(event(entity))
    writer = StoreWriter(bus, store)

    async def stored() -> bool:
        return len(await store.links("p-1")) == 1 and len(await store.history("p-1")) == 2

    stats = await run_until(writer, stored)
    assert stats.acked == 4
    assert (await store.get("p-1")).document["name"]["family"] == "Jones"


async def test_a_redelivered_event_changes_nothing_twice(bus, store):
    writer = StoreWriter(bus, store, ack_wait=0.5)
    consumer = await bus.subscribe(writer.spec)
    await bus.publish(event(person("p-1")))
    (delivery,) = await consumer.fetch(1, timeout=5)
    await writer.handle(delivery.message.envelope)  # committed... then the hub dies before the ack
    await consumer.close()

    async def settled() -> bool:
        (group,) = (await bus.stats()).groups
        return group.pending == group.in_flight == group.redelivering == 0

    stats = await run_until(writer, settled)
    assert stats.acked == 1  # the redelivery, recognised and acknowledged
    assert len(await store.history("p-1")) == 1


async def test_events_that_do_not_fit_go_to_the_dead_letters_with_the_reason(bus, store):
    good = event(person("p-1"))
    no_schema = good.model_copy(update={"id": "no-schema", "dataschema": None})
    invalid = good.model_copy(update={"id": "invalid", "data": {"id": "p-2"}})
    for envelope in (no_schema, invalid, good):
        await bus.publish(envelope)
    writer = StoreWriter(bus, store)

    async def dead() -> bool:
        return len(await bus.dead_letters(writer.spec.group)) == 2

    stats = await run_until(writer, dead)
    assert stats.rejected == 2
    reasons = {d.message.envelope.id: d.reason for d in await bus.dead_letters(writer.spec.group)}
    assert "no dataschema" in reasons["no-schema"]
    assert "invalid data" in reasons["invalid"]
    assert await store.get("p-1") is not None


async def test_a_batch_is_applied_in_one_transaction_and_acknowledged_together(bus, store):
    people = [person(f"p-{n}") for n in range(30)]
    for entity in people:
        await bus.publish(event(entity))
    writer = StoreWriter(bus, store, batch_size=50)

    async def stored() -> bool:
        return all([await store.get(p.id) is not None for p in people])

    stats = await run_until(writer, stored)
    assert stats.acked == 30
    with store.engine.connect() as conn:  # one transaction stamps one time on everything it applied
        stamps = conn.execute(select(applied_messages.c.applied_at).distinct()).scalars().all()
    assert len(stamps) < 30


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone(bus, store):
    # "k-1" is a crime; an event calling a person "k-1" fails inside the batch's transaction.
    poison = event(person("k-1"))
    batch = [event(crime("k-1")), event(person("p-1")), poison, event(person("p-2"))]
    for envelope in batch:
        await bus.publish(envelope)
    writer = StoreWriter(bus, store, batch_size=10)

    async def dead() -> bool:
        return len(await bus.dead_letters(writer.spec.group)) == 1

    stats = await run_until(writer, dead)
    (letter,) = await bus.dead_letters(writer.spec.group)
    assert letter.message.envelope.id == poison.id
    assert "which is a crime" in letter.reason
    assert stats.acked == 3
    assert await store.get("p-1") is not None
    assert await store.get("p-2") is not None


async def test_a_batch_whose_follow_up_fails_is_retried_one_event_at_a_time(bus, store):
    told: list[str] = []

    async def after_batch(applied) -> None:
        raise RuntimeError("the search keys are away")

    async def after_apply(envelope, result) -> None:
        if result.entity_id == "p-2":
            raise RuntimeError("this one record cannot be indexed")
        told.append(result.entity_id)

    for n in (1, 2, 3):
        await bus.publish(event(person(f"p-{n}")))
    writer = StoreWriter(
        bus, store, batch_size=10, max_attempts=2, after_apply=after_apply, after_batch=after_batch
    )

    async def dead() -> bool:
        return len(await bus.dead_letters(writer.spec.group)) == 1

    stats = await run_until(writer, dead)
    (letter,) = await bus.dead_letters(writer.spec.group)
    assert "cannot be indexed" in letter.reason
    assert sorted(told) == ["p-1", "p-3"]  # told once each: applied once, the rest never retried
    assert stats.acked == 2
