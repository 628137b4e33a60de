"""Vehicle search on the real store, SQLite and PostgreSQL: every pattern kind, filters, keys kept current."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _search_helpers import T0
from fastapi import FastAPI

from polestar.model import Vehicle, to_envelope
from polestar.search.api import SearchServices, create_search_router
from polestar.search.place_index import PlaceIndex
from polestar.search.vehicles import VehicleQuery, search_vehicles

PROV = {"organisation": "01", "system": "pnc", "observed_at": T0, "recorded_at": T0}
FLEET = (
    ("v1", "AB12 CDE", "Ford", "Focus", "blue"),
    ("v2", "AB12 CDF", "Vauxhall", "Corsa", "red"),
    ("v3", "AX12 CDE", "Ford", "Fiesta", "blue"),
    ("v4", "YB12 CDE", "Ford", "Focus", "silver"),
    ("v5", "AB62 XYZ", "Land Rover", "Defender", "green"),
    ("v6", "K123 ABC", "Ford", "Transit", "white"),
)


async def _apply(store, vehicle: Vehicle) -> None:
    await store.apply(
        to_envelope(vehicle, type="vehicle.updated", source="/connectors/test", actor="system:t")
    )


def _vehicle(vid: str, mark: str, make: str, model: str, colour: str, version: int = 1) -> Vehicle:
    return Vehicle(
        id=vid,
        version=version,
        registration={"mark": mark},
        make=make,
        model=model,
        colour=colour,
        provenance=PROV,
    )


@pytest.fixture
async def fleet(indexed):
    store, index = indexed
    places = PlaceIndex(store.engine)
    await places.start()
    for row in FLEET:
        await _apply(store, _vehicle(*row))
        await places.refresh([row[0]])  # as vehicle resolution does after each apply
    return store, index, places


async def _found(store, **asked) -> list[str]:
    def blocking() -> list[str]:
        with store.engine.connect() as conn:
            return [m.vehicle_id for m in search_vehicles(conn, VehicleQuery(**asked))]

    return await asyncio.to_thread(blocking)


@pytest.mark.parametrize(
    ("registration", "expected"),
    [
        ("ab12 cde", ["v1"]),
        ("AB12*", ["v1", "v2"]),
        ("A*", ["v1", "v2", "v5", "v3"]),
        ("*CDE", ["v1", "v3", "v4"]),
        ("A?12 CDE", ["v1", "v3"]),
        ("AB12CD?", ["v1", "v2"]),
        ("?B12 CDE", ["v1", "v4"]),
        ("?B12CD?", ["v1", "v2", "v4"]),
        ("*12C*", ["v1", "v2", "v3", "v4"]),
        ("K1*C", ["v6"]),
        ("ZZ99*", []),
    ],
)
async def test_each_kind_of_registration_pattern_finds_exactly_its_vehicles(fleet, registration, expected):
    store, _, _ = fleet
    assert await _found(store, registration=registration) == expected


async def test_make_model_and_colour_filter_case_insensitively(fleet):
    store, _, _ = fleet
    assert await _found(store, registration="*CDE", make="ford", colour="BLUE") == ["v1", "v3"]
    assert await _found(store, make="FORD", model="focus") == ["v1", "v4"]  # blue, then silver
    assert await _found(store, make="Ford") == ["v1", "v3", "v4", "v6"]  # by colour, then mark
    assert await _found(store, make="land   rover") == ["v5"]
    assert await _found(store, colour="white") == ["v6"]


async def test_a_match_says_what_matched_and_shows_the_plate(fleet):
    store, _, _ = fleet

    def blocking():
        with store.engine.connect() as conn:
            return search_vehicles(conn, VehicleQuery(registration="AB12C?E", colour="blue"))

    [match] = await asyncio.to_thread(blocking)
    assert (match.vehicle_id, match.registration, match.make, match.model, match.colour) == (
        "v1",
        "AB12 CDE",
        "Ford",
        "Focus",
        "blue",
    )
    assert match.matched == ("registration", "colour")


async def test_a_new_plate_replaces_the_old_one_in_the_keys_after_an_apply(fleet):
    store, _, places = fleet
    await _apply(store, _vehicle("v1", "CH05 ERY", "Ford", "Focus", "blue", version=2))
    await places.refresh(["v1"])
    assert await _found(store, registration="AB12*") == ["v2"]
    assert await _found(store, registration="CH05*") == ["v1"]


async def test_rebuild_recreates_the_vehicle_keys_from_the_store(fleet):
    store, _, places = fleet
    await places.rebuild()
    assert await _found(store, registration="*CDE") == ["v1", "v3", "v4"]


async def test_a_merged_vehicle_answers_as_its_survivor_once(fleet):
    store, _, _ = fleet
    await store.merge("v3", "v1", actor="user:pc1", reason="same VIN seen at the roadside")
    assert await _found(store, registration="*CDE") == ["v3", "v4"]
    assert await _found(store, registration="*CDE", limit=1) == ["v3"]


@pytest.fixture
async def client(fleet):
    store, index, places = fleet
    app = FastAPI()
    app.include_router(create_search_router(SearchServices(store, index, places)))
    transport = httpx.ASGITransport(app=app)
    headers = {"X-Polestar-Actor": "user:pc1234"}
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test", headers=headers) as http:
        yield http


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        ({"registration": "**?"}, "registration", "not only ? and *"),
        ({"registration": "AB12%"}, "registration", "not '%'"),
        ({"registration": "*A*"}, "registration", "at least two letters or digits"),
        ({"make": "Ford", "colour": "bleu"}, "colour", "not a DVLA colour"),
    ],
)
async def test_the_api_refuses_a_bad_vehicle_search_naming_the_field(client, body, field, why):
    response = await client.post("/search/vehicles", json=body)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert why in error["msg"]
