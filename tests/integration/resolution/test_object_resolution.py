"""Vehicles and locations resolved: the same VIN or UPRN merges, a shared mark or a close address waits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from polestar.model import Location, Vehicle, to_envelope
from polestar.model.common import Entity
from polestar.resolution import Outcome, Resolver
from polestar.resolution.objects import ObjectResolver
from polestar.search.place_index import PlaceIndex

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
VIN = "WF0AXXGCDA1A12345"


def prov(system: str) -> dict[str, Any]:
    return {"organisation": "01", "system": system, "observed_at": T0, "recorded_at": T0}


@pytest.fixture
async def objects(resolver: Resolver) -> ObjectResolver:
    places = PlaceIndex(resolver.store.engine)
    await places.start()
    return ObjectResolver(resolver, places)


async def arrive(objects: ObjectResolver, entity: Entity) -> Any:
    kind = entity.schema_name
    await objects.store.apply(
        to_envelope(entity, type=f"{kind}.updated", source="/connectors/t", actor="system:t")
    )
    return await objects.resolve(entity.id)


async def test_the_same_vin_from_two_systems_is_one_vehicle(objects):
    first = await arrive(
        objects, Vehicle(id="v1", vin=VIN, registration={"mark": "AB12 CDE"}, provenance=prov("pnc"))
    )
    assert first.outcome is Outcome.NEW
    second = await arrive(objects, Vehicle(id="v2", vin=VIN, make="Ford", provenance=prov("custody")))
    assert (second.outcome, second.candidate_id) == (Outcome.MERGED, "v1")
    assert (await objects.store.get("v2")).id == "v1"


async def test_a_shared_mark_without_vins_to_compare_waits_for_a_person(objects):
    await arrive(objects, Vehicle(id="v1", registration={"mark": "AB12 CDE"}, provenance=prov("pnc")))
    maybe = await arrive(objects, Vehicle(id="v2", registration={"mark": "AB12CDE"}, provenance=prov("cad")))
    assert maybe.outcome is Outcome.REVIEW
    [review] = await objects.people.reviews()
    assert (review.record_id, review.candidate_id) == ("v2", "v1")
    other_car = await arrive(
        objects,
        Vehicle(id="v3", vin="SAJAA01A1BA123456", registration={"mark": "XY99 ZZZ"}, provenance=prov("pnc")),
    )
    plate_moved = await arrive(
        objects,
        Vehicle(id="v4", vin="WVWZZZ1JZXW000001", registration={"mark": "XY99 ZZZ"}, provenance=prov("cad")),
    )
    assert (other_car.outcome, plate_moved.outcome) == (Outcome.NEW, Outcome.NEW)


async def test_locations_merge_on_uprn_or_the_same_address_and_queue_a_close_one(objects):
    home = {"lines": ["14 Acacia Avenue", "Sketty"], "town": "Swansea", "postcode": "SA2 0AB"}
    await arrive(objects, Location(id="l1", address={**home, "uprn": "100100100"}, provenance=prov("cad")))
    by_uprn = await arrive(
        objects,
        Location(
            id="l2", address={"lines": ["14 Acacia Ave"], "uprn": "100100100"}, provenance=prov("custody")
        ),
    )
    assert (by_uprn.outcome, by_uprn.candidate_id) == (Outcome.MERGED, "l1")
    same_words = await arrive(objects, Location(id="l3", address=home, provenance=prov("crime-recording")))
    assert same_words.outcome is Outcome.MERGED
    close = await arrive(
        objects,
        Location(
            id="l4", address={**home, "lines": ["14 Acacia Avenue", "Sketty Park"]}, provenance=prov("cad")
        ),
    )
    assert close.outcome is Outcome.REVIEW
    next_door = await arrive(
        objects,
        Location(id="l5", address={**home, "lines": ["16 Cedar Road", "Sketty"]}, provenance=prov("cad")),
    )
    assert next_door.outcome is Outcome.NEW


async def test_an_unmerged_pair_is_not_merged_again_automatically(objects):
    await arrive(objects, Vehicle(id="v1", vin=VIN, provenance=prov("pnc")))
    merged = await arrive(objects, Vehicle(id="v2", vin=VIN, provenance=prov("custody")))
    await objects.store.unmerge(merged.merge_id, actor="user:ds7", reason="cloned VIN")
    again = await objects.resolve("v2")
    assert again.outcome is Outcome.REVIEW
    assert "unmerged by a person" in again.reason
