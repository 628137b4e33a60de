"""Erasure: everything held on a person, found from their id, really deleted; nothing else touched."""

from __future__ import annotations

import pytest
from _store_helpers import count_rows, crime, event, link, person, put, vehicle

from polestar.store import ErasureIncomplete, RecordingHook
from polestar.store.erasure import ErasureHooks


@pytest.fixture
async def world(make_store):
    """Sarah (p) with a merged CAD record (p2), her links, history and provenance; Ann (q) untouched."""
    hooks = ErasureHooks()
    search = RecordingHook("search", ids=["p", "p2", "q", "l-p-k"])
    hooks.register(search)
    told = []

    async def on_erasure(summary):
        told.append(summary)

    store = await make_store(hooks=hooks, on_erasure=on_erasure)
    p, p2, q, k, v = (
        person("p"),
        person("p2", given="S", system="cad"),
        person("q", given="Ann"),
        crime("k"),
        vehicle("v"),
    )
    await put(store, p, p2, q, k, v)
    await store.apply(event(person("p", version=2, place_of_birth="Cardiff", system="pnc", at=5)))
    await put(
        store,
        link("l-p-k", "suspect", p, k),
        link("l-p2-v", "driver", p2, v),
        link("l-q-k", "witness", q, k),
        link("l-p-q", "associate", p, q),
    )
    await store.merge("p", "p2", actor="user:DC42@met", reason="same person")
    return store, search, told


async def test_the_erasure_map_lists_every_row_holding_the_persons_data(world):
    store, _, _ = world
    rows = await store.rows_for_subject("p")
    tables = {r.table for r in rows if r.component == "store"}
    assert tables == {
        "store_entities",
        "store_entity_versions",
        "store_field_provenance",
        "store_links",
        "store_merges",
    }
    keys = {r.key for r in rows if r.table == "store_entities"}
    assert keys == {"p", "p2", "l-p-k", "l-p2-v", "l-p-q"}
    assert {r.key for r in rows if r.component == "search"} == {"p", "p2", "l-p-k"}
    assert "p#2" in {r.key for r in rows if r.table == "store_entity_versions"}
    # Found the same from the merged record's id.
    assert {r.key for r in await store.rows_for_subject("p2")} == {r.key for r in rows}


async def test_erasure_removes_everything_reachable_from_the_person_and_nothing_else(world):
    store, search, told = world
    before = count_rows(store)
    mapped = await store.rows_for_subject("p")
    ann_before = await store.get("q")

    summary = await store.erase_subject("p", actor="user:DPO1@met", reason="s47 erasure request 2026/17")

    assert await store.rows_for_subject("p") == []
    assert await store.rows_for_subject("p2") == []
    assert await store.get("p") is None
    assert await store.history("p") == []
    assert await store.provenance("p") == []
    after = count_rows(store)
    store_rows = [r for r in mapped if r.component == "store"]
    for table in before:
        assert before[table] - after[table] == sum(1 for r in store_rows if r.table == table), table
    assert summary.rows == {t: sum(1 for r in store_rows if r.table == t) for t in summary.rows}
    # Ann, the crime and the vehicle are still there, with their other links.
    assert await store.get("q") == ann_before
    assert {lk.id for lk in await store.links("k")} == {"l-q-k"}
    assert await store.links("v") == []
    assert search.held == {"q"}
    (audited,) = told
    assert (audited.subject_id, audited.actor, audited.complete) == ("p", "user:DPO1@met", True)
    assert set(audited.record_ids) == {"p", "p2", "l-p-k", "l-p2-v", "l-p-q"}
    assert "Sarah" not in repr(audited)


async def test_a_redelivered_event_does_not_bring_an_erased_person_back(world):
    store, _, _ = world
    original = event(person("p-new"))
    await store.apply(original)
    await store.erase_subject("p-new", actor="user:DPO1@met", reason="erasure")
    await store.apply(original)
    assert await store.get("p-new") is None


async def test_a_failed_hook_makes_the_erasure_incomplete_and_finishing_it_later_reaches_every_record(world):
    store, search, told = world
    search.fail_with = ConnectionError("search index unavailable")
    with pytest.raises(ErasureIncomplete) as caught:
        await store.erase_subject("p", actor="user:DPO1@met", reason="erasure")
    assert "search" in caught.value.summary.hook_failures
    assert await store.get("p") is None
    assert told[-1].complete is False

    search.fail_with = None
    finished = await store.finish_erasure(caught.value.summary)
    assert finished.complete
    assert finished.hook_rows == {"search": 3}
    assert search.held == {"q"}
    assert told[-1].complete is True
