"""A batch's reviews are written together when it closes, and a pair already pending keeps its review."""

from __future__ import annotations

import asyncio

import pytest
from _resolution_helpers import PNC_A, arrive, person, pnc

from polestar.resolution import Outcome


async def test_reviews_decided_in_a_batch_are_written_together_when_it_closes(resolver):
    await arrive(resolver, person("c1", "Robert", "Smith", date_of_birth="1985"))
    await arrive(resolver, person("d1", "Robert", "Smith", date_of_birth="1985", system="cad"))
    await arrive(resolver, person("d2", "Robert", "Smith", date_of_birth="1985", system="rms"))
    async with resolver.batched() as batch:
        decided = await asyncio.gather(resolver.resolve("d1"), resolver.resolve("d2"))
        assert await resolver.reviews() == []  # nothing written while the batch is open
    assert {d.outcome for d in decided} == {Outcome.REVIEW}
    pending = await resolver.reviews()
    assert sorted(r.record_id for r in pending) == ["d1", "d2"]
    assert {batch.settled(d).review_id for d in decided} == {r.id for r in pending}


async def test_a_pair_already_pending_keeps_its_review_when_a_batch_decides_it_again(resolver):
    await arrive(resolver, person("c1", "Robert", "Smith", date_of_birth="1985"))
    await arrive(resolver, person("d1", "Robert", "Smith", date_of_birth="1985", system="cad"))
    first = await resolver.resolve("d1")
    async with resolver.batched() as batch:
        again = await resolver.resolve("d1")
    assert [r.id for r in await resolver.reviews()] == [first.review_id]
    assert batch.settled(again).review_id == first.review_id


async def test_a_batch_that_fails_writes_none_of_its_reviews(resolver):
    await arrive(resolver, person("c1", "Robert", "Smith", date_of_birth="1985"))
    await arrive(resolver, person("d1", "Robert", "Smith", date_of_birth="1985", system="cad"))

    async def fails() -> None:
        async with resolver.batched():
            assert (await resolver.resolve("d1")).outcome is Outcome.REVIEW
            raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError, match="went away"):
        await fails()
    assert await resolver.reviews() == []
    assert (await resolver.resolve("d1")).outcome is Outcome.REVIEW  # redelivered: decided again
    assert len(await resolver.reviews()) == 1


async def test_two_records_of_one_person_in_a_batch_reach_one_merge(resolver):
    await arrive(resolver, person("c1", "Robert", "Smith", identifiers=pnc(PNC_A)))
    await arrive(resolver, person("d1", "Bobby", "Smyth", system="cad", identifiers=pnc(PNC_A)))
    async with resolver.batched(["c1", "d1"]):  # both read before either is merged
        decided = await asyncio.gather(resolver.resolve("c1"), resolver.resolve("d1"))
    # Whichever merges second finds the pair already one group (resolution/folding.py): no refusal, one merge.
    assert {d.outcome for d in decided} == {Outcome.MERGED}
    assert [m.merged_id for m in await resolver.store.merges("c1") if m.active] == ["d1"]
    assert (await resolver.store.get("d1")).id == "c1"


async def test_a_record_erased_while_its_batch_runs_is_named_by_no_review(resolver):
    await arrive(resolver, person("c1", "Robert", "Smith", date_of_birth="1985"))
    await arrive(resolver, person("d1", "Robert", "Smith", date_of_birth="1985", system="cad"))
    async with resolver.batched():
        assert (await resolver.resolve("d1")).outcome is Outcome.REVIEW  # held for the batch's write
        await resolver.store.erase_subject("d1", actor="user:dpo", reason="s47 request")
    assert await resolver.reviews(status=None) == []
