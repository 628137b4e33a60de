"""Location and event queries as typed: postcodes, circles, event kinds; keys from documents."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from polestar.search.events import EventQuery
from polestar.search.links import describe
from polestar.search.locations import LocationQuery, NearQuery, postcode_level
from polestar.search.place_index import event_time, location_keys_of, object_identifiers, words


@pytest.mark.parametrize(
    ("typed", "level"),
    [
        ("sw1a2aa", ("postcode", "SW1A 2AA")),
        ("SW1A 2", ("sector", "SW1A 2")),
        ("sw1a", ("outward", "SW1A")),
        ("M1 1AE", ("postcode", "M1 1AE")),
        (None, None),
    ],
)
def test_a_postcode_is_read_at_the_level_typed(typed, level):
    assert postcode_level(typed) == level


def test_a_postcode_that_is_none_of_those_is_refused_naming_it():
    with pytest.raises(ValidationError, match="'ZZ' is not a UK postcode"):
        LocationQuery(postcode="ZZ")


def test_a_location_search_needs_something_to_look_for():
    with pytest.raises(ValidationError, match="needs address text"):
        LocationQuery(text="  ,, ")


def test_a_circle_is_bounded_and_measured_in_metres():
    near = NearQuery(latitude=51.5, longitude=-0.12, radius_m=1000)
    south, north, west, east = near.box()
    assert south < 51.5 < north
    assert west < -0.12 < east
    assert near.distance_m(51.5 + 0.009, -0.12) == pytest.approx(1000, rel=0.01)
    with pytest.raises(ValidationError):
        NearQuery(latitude=51.5, longitude=-0.12, radius_m=60_000)


def test_event_queries_take_only_event_kinds_and_a_window_that_runs_forward():
    with pytest.raises(ValidationError, match="person are not event kinds"):
        EventQuery(kinds=["person"])
    with pytest.raises(ValidationError, match="occurred_from is after occurred_to"):
        EventQuery(occurred_from="2026-03-02T00:00:00Z", occurred_to="2026-03-01T00:00:00Z")
    with pytest.raises(ValidationError, match="needs a kind"):
        EventQuery()
    assert EventQuery(kinds=["crime"]).kinds[0].value == "crime"


def test_location_keys_hold_the_address_words_postcode_parts_and_point():
    keys = location_keys_of(
        "l1",
        {
            "name": "The Red Lion",
            "address": {"lines": ["14 Acacia Avenue"], "town": "Swansea", "postcode": "SA2 0AB", "uprn": "1"},
            "coordinates": {"latitude": 51.6, "longitude": -3.9},
            "area": {"force": "62", "beat": "CX12"},
        },
    )
    assert keys.text == "THE RED LION 14 ACACIA AVENUE SWANSEA"
    assert (keys.postcode, keys.outward, keys.sector) == ("SA2 0AB", "SA2", "SA2 0")
    assert {"14", "ACACIA", "LION"} <= keys.tokens()
    assert (keys.latitude, keys.force, keys.beat) == (51.6, "62", "CX12")


def test_an_events_time_is_its_kinds_own_field():
    assert event_time("crime", {"reported_at": "2026-03-01T09:00:00Z"}) == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert event_time(
        "crime", {"committed_from": "2026-02-28T22:00:00Z", "reported_at": "2026-03-01T09:00:00Z"}
    ) == (datetime(2026, 2, 28, 22, tzinfo=UTC))
    assert event_time("incident", {}) is None


def test_object_identifiers_and_descriptions():
    car = {
        "vin": "WF0AXXGCDA1A12345",
        "registration": {"mark": "AB12CDE", "display": "AB12 CDE"},
        "make": "Ford",
    }
    assert object_identifiers("vehicle", car) == {"VIN": "WF0AXXGCDA1A12345", "MARK": "AB12CDE"}
    assert object_identifiers("location", {"address": {"uprn": "100023336956"}}) == {"UPRN": "100023336956"}
    assert describe("vehicle", car) == "AB12 CDE Ford"
    person = {"name": {"given": "Robert", "family": "Smith"}, "date_of_birth": {"value": "1985-06"}}
    assert describe("person", person) == "Robert Smith (born 1985-06)"
    assert describe("crime", {"summary": "burglary"}) == "burglary"
    assert words("O'Neill's Bar, 3-5 High St.") == ["ONEILLS", "BAR", "3", "5", "HIGH", "ST"]
