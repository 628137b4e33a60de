"""Merge and unmerge: the same person from two systems folded into one record, and separated again."""

from __future__ import annotations

import pytest
from _store_helpers import crime, event, link, person, put, vehicle

from polestar.store import EntityNotFound, MergeNotFound, MergeRefused, Operation


@pytest.fixture
async def two_records(store):
    """Custody's Sarah Morgan (suspect in k1) and CAD's S. Morgan (driver of v1, associate of x)."""
    s, o, x = person("s"), person("o", given="S", system="cad"), person("x", given="Ann")
    k1, v1 = crime("k1"), vehicle("v1")
    await put(store, s, o, x, k1, v1)
    await put(
        store,
        link("l-s-k1", "suspect", s, k1),
        link("l-o-v1", "driver", o, v1),
        link("l-o-x", "associate", o, x),
    )
    return store


async def test_a_merge_shows_the_merged_records_links_on_the_survivor_and_unmerge_puts_them_back(two_records):
    store = two_records
    merge = await store.merge("s", "o", actor="user:DC42@met", reason="same PNC id 2001/0001234X")

    survivor = await store.get("o")
    assert (survivor.id, survivor.requested_id, survivor.merged_ids) == ("s", "o", ("o",))
    assert {(lk.id, lk.from_id) for lk in await store.links("s")} == {
        ("l-s-k1", "s"),
        ("l-o-v1", "s"),
        ("l-o-x", "s"),
    }
    x_links = await store.links("x")
    assert [(lk.from_id, lk.named_from_id) for lk in x_links] == [("s", "o")]
    assert {a.entity_id for a in (await store.traverse("x", hops=2)).associates} == {"s", "k1", "v1"}

    undone = await store.unmerge(merge.id, actor="user:DS7@met", reason="different dates of birth")

    assert not undone.active
    assert (undone.unmerged_by, undone.unmerge_reason) == ("user:DS7@met", "different dates of birth")
    assert (await store.get("o")).id == "o"
    assert (await store.get("s")).merged_ids == ()
    assert {lk.id for lk in await store.links("s")} == {"l-s-k1"}
    assert {lk.id for lk in await store.links("o")} == {"l-o-v1", "l-o-x"}
    assert {a.entity_id for a in (await store.traverse("x", hops=2)).associates} == {"o", "v1"}


async def test_merge_and_unmerge_are_in_both_records_history_with_who_and_why(two_records):
    store = two_records
    merge = await store.merge("s", "o", actor="user:DC42@met", reason="same PNC id")
    await store.unmerge(merge.id, actor="user:DS7@met", reason="not the same")
    for record in ("s", "o"):
        history = await store.history(record)
        assert [h.operation for h in history] == [Operation.CREATED, Operation.MERGED, Operation.UNMERGED]
        assert history[1].actor == "user:DC42@met"
        assert "same PNC id" in history[1].reason
        assert "not the same" in history[2].reason
    assert [m.id for m in await store.merges("o")] == [merge.id]


async def test_a_link_to_the_merged_record_arriving_after_the_merge_follows_it(two_records):
    store = two_records
    merge = await store.merge("s", "o", actor="user:DC42@met", reason="same person")
    await put(store, link("l-late", "witness", ("person", "o"), ("crime", "k1")))
    assert "l-late" in {lk.id for lk in await store.links("s")}
    await store.unmerge(merge.id, actor="user:DC42@met", reason="mistake")
    assert "l-late" in {lk.id for lk in await store.links("o")}
    assert "l-late" not in {lk.id for lk in await store.links("s")}


async def test_updates_to_a_merged_record_are_kept_and_come_back_on_unmerge(two_records):
    store = two_records
    merge = await store.merge("s", "o", actor="user:DC42@met", reason="same person")
    await store.apply(event(person("o", version=2, given="Sam", system="cad", at=10)))
    assert (await store.get("o")).document["name"]["given"] == "Sarah"  # the survivor's view
    await store.unmerge(merge.id, actor="user:DC42@met", reason="mistake")
    assert (await store.get("o")).document["name"]["given"] == "Sam"


async def test_merges_that_cannot_be_done_are_refused(two_records):
    store = two_records
    with pytest.raises(MergeRefused, match="itself"):
        await store.merge("s", "s", actor="user:a", reason="r")
    with pytest.raises(MergeRefused, match="vehicle"):
        await store.merge("s", "v1", actor="user:a", reason="r")
    with pytest.raises(EntityNotFound):
        await store.merge("s", "nobody", actor="user:a", reason="r")
    merge = await store.merge("s", "o", actor="user:a", reason="r")
    with pytest.raises(MergeRefused, match="already merged"):
        await store.merge("x", "o", actor="user:a", reason="r")
    await store.unmerge(merge.id, actor="user:a", reason="r")
    with pytest.raises(MergeRefused, match="already undone"):
        await store.unmerge(merge.id, actor="user:a", reason="r")
    with pytest.raises(MergeNotFound):
        await store.unmerge("no-such-merge", actor="user:a", reason="r")


async def test_chains_of_merges_resolve_to_the_last_survivor(two_records):
    store = two_records
    await store.merge("s", "o", actor="user:a", reason="same")
    await store.merge("x", "s", actor="user:a", reason="same again")
    stored = await store.get("o")
    assert (stored.id, set(stored.merged_ids)) == ("x", {"s", "o"})
    assert {lk.id for lk in await store.links("x")} == {"l-s-k1", "l-o-v1"}  # l-o-x joins x to itself now
