"""Contract: durable groups, competing members, redelivery, backoff, in-progress and replay."""

from __future__ import annotations

import asyncio
import time

from _bus_helpers import FAST_BACKOFF, ack_all, collect, event, numbers, spec

from polestar.bus.contract import BackoffPolicy, DeliverPolicy
from polestar.model.timeutil import utcnow


async def test_a_group_receives_everything_once_and_acked_messages_do_not_return(engine):
    for n in range(5):
        await engine.publish(event(n))
    consumer = await engine.subscribe(spec())
    got = await collect(consumer, 5)
    assert sorted(numbers(got)) == list(range(5))
    assert all(d.attempt == 1 for d in got)
    await ack_all(got)
    assert await consumer.fetch(5, timeout=1.5) == []


async def test_every_group_gets_its_own_copy(engine):
    audit = await engine.subscribe(spec("audit"))
    search = await engine.subscribe(spec("search"))
    for n in range(3):
        await engine.publish(event(n))
    for consumer in (audit, search):
        got = await collect(consumer, 3)
        assert sorted(numbers(got)) == [0, 1, 2]
        await ack_all(got)


async def test_deliver_new_starts_after_what_is_already_stored(engine):
    await engine.publish(event(1))
    consumer = await engine.subscribe(spec(deliver=DeliverPolicy.NEW))
    await engine.publish(event(2))
    got = await collect(consumer, 1, timeout=2)
    assert numbers(got) == [2]
    await ack_all(got)
    assert await consumer.fetch(2, timeout=0.5) == []


async def test_group_filters_subjects_with_wildcards(engine):
    consumer = await engine.subscribe(spec(subjects=("custody.*.released",)))
    await engine.publish(event(1), subject="custody.s1.released")
    await engine.publish(event(2), subject="incident.unit.assigned")
    await engine.publish(event(3), subject="custody.s2.released")
    got = await collect(consumer, 2, timeout=2)
    assert sorted(numbers(got)) == [1, 3]
    await ack_all(got)
    assert await consumer.fetch(2, timeout=0.5) == []


async def test_competing_members_split_the_work_and_never_share_a_message(engine):
    members = [await engine.subscribe(spec()) for _ in range(3)]
    for n in range(60):
        await engine.publish(event(n))
    seen: dict[int, list[int]] = {i: [] for i in range(3)}

    async def work(i: int) -> None:
        deadline = time.monotonic() + 10
        while sum(len(v) for v in seen.values()) < 60 and time.monotonic() < deadline:
            for delivery in await members[i].fetch(3, timeout=0.3):
                seen[i].append(delivery.message.envelope.data["n"])
                await asyncio.sleep(0.01)  # hold the lease a moment so others must take other messages
                await delivery.ack()

    await asyncio.gather(*(work(i) for i in range(3)))
    everything = [n for v in seen.values() for n in v]
    assert sorted(everything) == list(range(60))  # all delivered, none twice
    assert sum(1 for v in seen.values() if v) >= 2


async def test_a_delivery_left_unsettled_by_a_crashed_member_comes_back_with_the_next_attempt(engine):
    await engine.publish(event(7))
    crashed = await engine.subscribe(spec(ack_wait=0.5))
    (first,) = await collect(crashed, 1)
    assert first.attempt == 1
    await crashed.close()  # gone without settling

    survivor = await engine.subscribe(spec(ack_wait=0.5))
    (again,) = await collect(survivor, 1, timeout=5)
    assert again.message.sequence == first.message.sequence
    assert again.attempt == 2
    await again.ack()


async def test_a_lapsed_ack_wait_redelivers_to_the_same_group(engine):
    consumer = await engine.subscribe(spec(ack_wait=0.5))
    await engine.publish(event(1))
    (first,) = await collect(consumer, 1)
    started = time.monotonic()
    (again,) = await collect(consumer, 1, timeout=5)
    assert time.monotonic() - started >= 0.3
    assert again.attempt == 2
    assert again.message.sequence == first.message.sequence
    await again.ack()


async def test_in_progress_extends_the_ack_deadline(engine):
    worker = await engine.subscribe(spec(ack_wait=1.0))
    rival = await engine.subscribe(spec(ack_wait=1.0))
    await engine.publish(event(1))
    (delivery,) = await collect(worker, 1)
    for _ in range(4):  # 2.4 s in all, well past one ack_wait
        await asyncio.sleep(0.6)
        await delivery.in_progress()
    assert await rival.fetch(1, timeout=0.2) == []
    await delivery.ack()
    assert await rival.fetch(1, timeout=1.5) == []


async def test_nack_waits_for_the_backoff_before_redelivering(engine):
    slow = BackoffPolicy(initial=0.8, multiplier=1.0, maximum=0.8, jitter=0.0)
    consumer = await engine.subscribe(spec(backoff=slow, ack_wait=5.0))
    await engine.publish(event(1))
    (first,) = await collect(consumer, 1)
    nacked_at = time.monotonic()
    await first.nack("custody system unavailable")
    assert await consumer.fetch(1, timeout=0.3) == []
    (again,) = await collect(consumer, 1, timeout=5)
    assert time.monotonic() - nacked_at >= 0.6
    assert again.attempt == 2
    await again.nack("try now", delay=0)
    (third,) = await collect(consumer, 1, timeout=2)
    assert third.attempt == 3
    await third.ack()


async def test_replay_moves_a_group_back_to_a_sequence_or_a_time(engine):
    consumer = await engine.subscribe(spec(backoff=FAST_BACKOFF))
    acks = []
    for n in range(6):
        acks.append(await engine.publish(event(n)))
        if n == 2:
            await asyncio.sleep(0.05)
            middle = utcnow()
            await asyncio.sleep(0.05)
    await ack_all(await collect(consumer, 6))

    await engine.replay("g", from_sequence=acks[4].sequence)
    got = await collect(consumer, 2)
    assert sorted(numbers(got)) == [4, 5]
    await ack_all(got)

    await engine.replay("g", from_time=middle)
    got = await collect(consumer, 3)
    assert sorted(numbers(got)) == [3, 4, 5]
    await ack_all(got)
    assert await consumer.fetch(1, timeout=0.5) == []


async def test_stats_show_messages_backlog_and_in_flight(engine):
    consumer = await engine.subscribe(spec())
    for n in range(4):
        await engine.publish(event(n))
    held = await collect(consumer, 1)
    stats = await engine.stats()
    assert stats.engine == engine.name
    assert stats.messages == 4
    assert stats.last_sequence >= stats.first_sequence
    (group,) = [g for g in stats.groups if g.group == "g"]
    assert group.in_flight == 1
    assert group.pending == 3
    await ack_all(held)
