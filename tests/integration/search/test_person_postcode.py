"""Person search narrowed and ranked by a postcode, sector or outward code of the person's addresses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from _search_helpers import T0, person, put

from polestar.model import Link, Location, to_envelope
from polestar.search import PersonQuery
from polestar.search.place_index import PlaceIndex

PROV = {"organisation": "01", "system": "pnc", "observed_at": T0, "recorded_at": T0}


async def _apply(store, entity, kind):
    await store.apply(
        to_envelope(entity, type=f"{kind}.created", source="/connectors/test", actor="system:t")
    )


async def _lives_at(store, link_id, person_id, location_id, *, ended=False, role="resident"):
    ends = {
        "from_ref": {"type": "person", "id": person_id},
        "to_ref": {"type": "location", "id": location_id},
    }
    if role == "home-address":  # this role runs from the location to the person
        ends = {"from_ref": ends["to_ref"], "to_ref": ends["from_ref"]}
    more = {"valid_from": T0 - timedelta(days=900), "valid_to": T0 - timedelta(days=30)} if ended else {}
    await _apply(store, Link(id=link_id, role=role, provenance=PROV, **ends, **more), "link")


@pytest.fixture
async def town(indexed):
    """Three John Smiths: one living in SW1A 1AA, one who used to live in SW1A 2AA, one in Manchester."""
    store, index = indexed
    await put(
        store,
        person("p-london", "John", "Smith"),
        person("p-moved", "John", "Smith"),
        person("p-manchester", "John", "Smith"),
        person("p-neighbour", "Mary", "Jones"),
    )
    for lid, postcode in (("l-palace", "SW1A 1AA"), ("l-street", "SW1A 2AA"), ("l-piccadilly", "M1 1AE")):
        await _apply(
            store,
            Location(id=lid, address={"lines": ["1 Any Road"], "postcode": postcode}, provenance=PROV),
            "location",
        )
    await _lives_at(store, "k1", "p-london", "l-palace")
    await _lives_at(store, "k2", "p-moved", "l-street", ended=True)
    await _lives_at(store, "k3", "p-manchester", "l-piccadilly", role="home-address")
    await _lives_at(store, "k4", "p-neighbour", "l-palace")
    await index.rebuild()
    places = PlaceIndex(store.engine)
    await places.start()
    await places.rebuild()
    return index


async def test_a_full_postcode_shows_only_the_person_living_there(town):
    found = await town.search(PersonQuery(given="John", family="Smith", postcode="sw1a1aa"))
    assert [m.person_id for m in found] == ["p-london"]
    address = [f for f in found[0].fields if f.field == "address"]
    assert [(f.level, f.detail) for f in address] == [("postcode", "an address at SW1A 1AA")]


async def test_an_outward_code_ranks_a_current_address_above_a_former_one(town):
    found = await town.search(PersonQuery(given="John", family="Smith", postcode="SW1A"))
    assert [m.person_id for m in found] == ["p-london", "p-moved"]
    assert [f.level for f in found[1].fields if f.field == "address"] == ["former"]
    assert found[0].score > found[1].score


async def test_a_home_address_link_counts_as_an_address(town):
    found = await town.search(PersonQuery(given="John", family="Smith", postcode="M1 1"))
    assert [m.person_id for m in found] == ["p-manchester"]


async def test_a_family_name_alone_is_enough_within_a_postcode(town):
    """Without a postcode a family name alone can never reach "possible"; the address makes up the rest."""
    assert await town.search(PersonQuery(family="Jones")) == []
    found = await town.search(PersonQuery(family="Jones", postcode="SW1A 1AA"))
    assert [m.person_id for m in found] == ["p-neighbour"]


async def test_nobody_linked_to_the_area_finds_nobody(town):
    assert await town.search(PersonQuery(given="John", family="Smith", postcode="EH1 1YZ")) == []
