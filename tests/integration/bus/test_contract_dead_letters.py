"""Contract: poison goes to the dead letters with its history; operators replay or discard it."""

from __future__ import annotations

import pytest
from _bus_helpers import collect, event, numbers, spec

from polestar.errors import DeadLetterNotFound


async def test_poison_is_dead_lettered_after_max_attempts_with_reason_and_history(engine):
    consumer = await engine.subscribe(spec(max_attempts=3, ack_wait=5.0))
    ack = await engine.publish(event(9))
    for attempt in (1, 2, 3):
        (delivery,) = await collect(consumer, 1, timeout=5)
        assert delivery.attempt == attempt
        await delivery.nack(f"mapping failed on try {attempt}")
    assert await consumer.fetch(1, timeout=0.5) == []

    (dead,) = await engine.dead_letters("g")
    assert dead.group == "g"
    assert dead.message.sequence == ack.sequence
    assert dead.message.envelope.data["n"] == 9
    assert "mapping failed on try 3" in dead.reason
    assert [a.attempt for a in dead.attempts] == [1, 2, 3]
    assert [a.reason for a in dead.attempts] == [f"mapping failed on try {i}" for i in (1, 2, 3)]
    assert (await engine.dead_letter(dead.id)).id == dead.id
    assert (await engine.stats()).dead_letters == 1

    # The operator fixed the mapping: replay delivers it again, afresh.
    await engine.replay_dead_letter(dead.id)
    (again,) = await collect(consumer, 1, timeout=5)
    assert again.message.envelope.data["n"] == 9
    assert again.attempt == 1
    await again.ack()
    assert await engine.dead_letters("g") == []


async def test_reject_dead_letters_at_once_and_discard_removes_it(engine):
    consumer = await engine.subscribe(spec(max_attempts=5))
    await engine.publish(event(1))
    (delivery,) = await collect(consumer, 1)
    await delivery.reject("not a custody record")
    (dead,) = await engine.dead_letters()
    assert "not a custody record" in dead.reason
    assert [a.attempt for a in dead.attempts] == [1]

    await engine.discard_dead_letter(dead.id)
    assert await engine.dead_letters() == []
    with pytest.raises(DeadLetterNotFound):
        await engine.dead_letter(dead.id)
    with pytest.raises(DeadLetterNotFound):
        await engine.replay_dead_letter(dead.id)
    with pytest.raises(DeadLetterNotFound):
        await engine.discard_dead_letter(dead.id)
    assert await consumer.fetch(1, timeout=0.5) == []


async def test_a_dead_letter_of_one_group_leaves_other_groups_alone(engine):
    strict = await engine.subscribe(spec("strict"))
    relaxed = await engine.subscribe(spec("relaxed"))
    await engine.publish(event(1))
    (delivery,) = await collect(strict, 1)
    await delivery.reject("nope")
    (fine,) = await collect(relaxed, 1)
    await fine.ack()
    assert [d.group for d in await engine.dead_letters()] == ["strict"]
    assert await engine.dead_letters("relaxed") == []
    (dead,) = await engine.dead_letters("strict")
    await engine.replay_dead_letter(dead.id)
    assert numbers(await collect(strict, 1)) == [1]
    assert await relaxed.fetch(1, timeout=0.5) == []
