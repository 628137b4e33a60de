"""Records of one person resolved at the same time end on one survivor, on SQLite and PostgreSQL.

The hub resolves a batch's records concurrently (``asyncio.gather`` inside ``Resolver.batched``),
and two batches (two store applies) may run at once. Each record sees the others as candidates
and the merges they reach cross: none may be refused, and none may leave part of the person apart.
"""

from __future__ import annotations

import asyncio

from _resolution_helpers import PNC_A, arrive, person, pnc

from polestar.resolution import Outcome, Resolution, Resolver
from polestar.store import MergeRecord


async def _resolve_in_batches(resolver: Resolver, *batches: list[str]) -> list[Resolution]:
    """Each batch as the hub's writer resolves one (its own ``batched``), all batches at once."""

    async def one(ids: list[str]) -> list[Resolution]:
        async with resolver.batched(ids) as batch:
            decided = await asyncio.gather(*(resolver.resolve(i) for i in ids))
        return [batch.settled(d) for d in decided]

    done = await asyncio.gather(*(one(ids) for ids in batches))
    return [d for batch in done for d in batch]


async def _active_merges(resolver: Resolver, ids: list[str]) -> set[MergeRecord]:
    return {m for i in ids for m in await resolver.store.merges(i) if m.active}


async def _survivors(resolver: Resolver, ids: list[str]) -> set[str]:
    return {(await resolver.store.get(i)).id for i in ids}


async def test_records_sharing_a_pnc_id_with_a_held_person_all_fold_onto_it(resolver):
    # p1 is held; a1 and b1 arrive together. Each new record's first holder (by id) is the other
    # new one: without care the two merge with each other and p1 is left apart.
    await arrive(resolver, person("p1", "Robert", "Smith", identifiers=pnc(PNC_A)))
    assert (await resolver.resolve("p1")).outcome is Outcome.NEW
    await arrive(
        resolver,
        person("a1", "Bobby", "Smith", system="cad", identifiers=pnc(PNC_A)),
        person("b1", "Rob", "Smyth", system="rms", identifiers=pnc(PNC_A)),
    )
    decided = await _resolve_in_batches(resolver, ["a1", "b1"])
    assert {(d.record_id, d.outcome, d.candidate_id) for d in decided} == {
        ("a1", Outcome.MERGED, "p1"),
        ("b1", Outcome.MERGED, "p1"),
    }
    assert await _survivors(resolver, ["p1", "a1", "b1"]) == {"p1"}
    # Each folded straight onto the survivor: no record merged into one that was itself merged.
    merges = await _active_merges(resolver, ["p1", "a1", "b1"])
    assert sorted((m.survivor_id, m.merged_id) for m in merges) == [("p1", "a1"), ("p1", "b1")]


async def test_two_batches_at_once_with_records_of_one_person_refuse_no_merge(resolver):
    # Two store applies of the same person, resolved at the same time, each batch holding
    # records that find each other and the held record: the merges they reach cross.
    ids = ["a1", "b1", "c1", "d1", "e1", "f1"]
    await arrive(resolver, person("p1", "Robert", "Smith", identifiers=pnc(PNC_A)))
    await arrive(
        resolver,
        *(person(i, "Robert", "Smith", system=f"s{n}", identifiers=pnc(PNC_A)) for n, i in enumerate(ids)),
    )
    decided = await _resolve_in_batches(resolver, ids[:3], ids[3:], ["p1"])
    assert {d.outcome for d in decided if d.record_id != "p1"} == {Outcome.MERGED}
    assert await _survivors(resolver, ["p1", *ids]) == {"p1"}
    merges = await _active_merges(resolver, ["p1", *ids])
    assert sorted((m.survivor_id, m.merged_id) for m in merges) == [("p1", i) for i in ids]
    assert await resolver.reviews() == []


async def test_two_new_records_of_one_person_read_before_either_merged_reach_one_merge(resolver):
    # Both read (as the batch reads its records) before either is merged: each finds the other.
    await arrive(resolver, person("c1", "Robert", "Smith", identifiers=pnc(PNC_A)))
    await arrive(resolver, person("d1", "Bobby", "Smyth", system="cad", identifiers=pnc(PNC_A)))
    async with resolver.batched(["c1", "d1"]):
        decided = await asyncio.gather(resolver.resolve("c1"), resolver.resolve("d1"))
    assert {(d.outcome, d.candidate_id) for d in decided} == {(Outcome.MERGED, "c1")}
    assert len({d.merge_id for d in decided if d.merge_id is not None}) == 1
    assert [(m.survivor_id, m.merged_id) for m in await _active_merges(resolver, ["c1"])] == [("c1", "d1")]


async def test_records_matching_a_held_person_by_name_and_birth_date_fold_onto_it(resolver):
    # No identifier: the Fellegi-Sunter path. All three agree on name and full date of birth.
    born = {"date_of_birth": "1990-03-14", "gender": "2"}
    await arrive(resolver, person("p1", "Catherine", "O'Neill", **born))
    assert (await resolver.resolve("p1")).outcome is Outcome.NEW
    await arrive(
        resolver,
        person("a1", "Catherine", "O'Neill", system="cad", **born),
        person("b1", "Catherine", "O'Neill", system="rms", **born),
    )
    decided = await _resolve_in_batches(resolver, ["a1"], ["b1"])
    assert {d.outcome for d in decided} == {Outcome.MERGED}
    assert await _survivors(resolver, ["p1", "a1", "b1"]) == {"p1"}
