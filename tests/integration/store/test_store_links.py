"""Links and traversal: typed roles, both directions, N hops, role filters, cycles, limits, markings."""

from __future__ import annotations

import pytest
from _store_helpers import crime, event, link, person, put, vehicle

from polestar.model import ProtectiveMarking
from polestar.store import MAX_HOPS


@pytest.fixture
async def gang(store):
    """a, b and c associate in a cycle; b drives v, which d keeps; a is a suspect in crime k."""
    a, b, c, d = person("a"), person("b"), person("c"), person("d")
    v, k = vehicle("v"), crime("k")
    await put(store, a, b, c, d, v, k)
    await put(
        store,
        link("l-ab", "associate", a, b),
        link("l-bc", "associate", b, c),
        link("l-ca", "associate", c, a),
        link("l-bv", "driver", b, v),
        link("l-ak", "suspect", a, k),
        link("l-dv", "keeper", d, v),
    )
    return store


async def test_links_are_listed_from_either_end_with_their_role(gang):
    from_a = {(lk.id, lk.role, lk.from_id, lk.to_id) for lk in await gang.links("a")}
    assert from_a == {
        ("l-ab", "associate", "a", "b"),
        ("l-ca", "associate", "c", "a"),
        ("l-ak", "suspect", "a", "k"),
    }
    assert [lk.id for lk in await gang.links("v", roles=["keeper"])] == ["l-dv"]


async def test_traversal_finds_associates_within_n_hops_once_each_despite_the_cycle(gang):
    one = await gang.traverse("a", hops=1)
    assert {(x.entity_id, x.depth) for x in one.associates} == {("b", 1), ("c", 1), ("k", 1)}

    two = await gang.traverse("a", hops=2)
    assert {(x.entity_id, x.depth) for x in two.associates} == {("b", 1), ("c", 1), ("k", 1), ("v", 2)}
    v = next(x for x in two.associates if x.entity_id == "v")
    assert (v.kind, v.via_link, v.role, v.reached_from) == ("vehicle", "l-bv", "driver", "b")

    three = await gang.traverse("a", hops=3)
    assert ("d", 3) in {(x.entity_id, x.depth) for x in three.associates}
    assert len({x.entity_id for x in three.associates}) == len(three.associates)
    assert "a" not in {x.entity_id for x in three.associates}


async def test_traversal_can_follow_only_some_roles(gang):
    found = await gang.traverse("a", hops=3, roles=["associate"])
    assert {x.entity_id for x in found.associates} == {"b", "c"}


async def test_traversal_is_bounded(gang):
    limited = await gang.traverse("a", hops=3, limit=2)
    assert limited.truncated
    assert len(limited.associates) == 2
    with pytest.raises(ValueError, match="hops"):
        await gang.traverse("a", hops=MAX_HOPS + 1)


async def test_links_and_associates_above_the_callers_clearance_are_not_shown(store):
    a, b, c = person("a"), person("b"), person("c", marking="SECRET")
    await put(store, a, b, c)
    await put(store, link("l-ab", "associate", a, b, marking="SECRET"), link("l-ac", "associate", a, c))
    official = ProtectiveMarking.parse("OFFICIAL")
    assert await store.links("a", clearance=official) == [
        lk for lk in await store.links("a") if lk.id == "l-ac"
    ]
    assert (await store.traverse("a", clearance=official)).associates == ()
    assert {x.entity_id for x in (await store.traverse("a")).associates} == {"b", "c"}


async def test_a_link_may_arrive_before_the_records_it_joins(store):
    await put(store, link("l-1", "suspect", ("person", "p-9"), ("crime", "k-9")))
    assert [x.entity_id for x in (await store.traverse("p-9", hops=1)).associates] == ["k-9"]
    await put(store, person("p-9"))
    assert [lk.id for lk in await store.links("p-9")] == ["l-1"]


async def test_a_link_has_history_like_any_record(store):
    a, k = person("a"), crime("k")
    await put(store, a, k, link("l-1", "suspect", a, k))
    ended = link("l-1", "suspect", a, k, version=2, valid_to="2026-03-02T00:00:00Z")
    result = await store.apply(event(ended))
    assert result.changed_fields == ("valid_to",)
    (stored,) = await store.links("a")
    assert stored.valid_to is not None
    assert [h.version for h in await store.history("l-1")] == [1, 2]
