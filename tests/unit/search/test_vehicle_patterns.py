"""Registration patterns: what a typed mark becomes, which index range answers it, what is refused."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite

from polestar.search.vehicle_keys import mark_key, text_key, vehicle_row
from polestar.search.vehicles import VehicleQuery, registration_clauses, registration_pattern


@pytest.mark.parametrize(
    ("typed", "pattern"),
    [
        ("ab12 cde", "AB12CDE"),
        ("AB12-CDE", "AB12CDE"),
        ("ab12 **", "AB12*"),
        ("a?12 cde", "A?12CDE"),
        ("  *cde ", "*CDE"),
    ],
)
def test_a_typed_registration_becomes_a_mark_pattern(typed, pattern):
    assert registration_pattern(typed) == pattern


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("*", "not only ? and *"),
        ("?*??", "not only ? and *"),
        ("AB12%", "not '%'"),
        ("AB_12", "not '_'"),
        ("ÄB12", "not 'Ä'"),
        ("A" * 16, "at most 15"),
        ("*A*", "at least two letters or digits"),
        ("?A?", "at least two letters or digits"),
    ],
)
def test_a_bad_pattern_is_refused_saying_why(typed, why):
    with pytest.raises(ValueError, match=why.replace("?", r"\?").replace("*", r"\*")):
        registration_pattern(typed)


def test_the_query_names_the_field_at_fault():
    with pytest.raises(ValidationError) as caught:
        VehicleQuery(registration="**")
    [error] = caught.value.errors()
    assert error["loc"] == ("registration",)
    assert "not only ? and *" in error["msg"]
    with pytest.raises(ValidationError) as caught:
        VehicleQuery(make="Ford", colour="bleu")
    [error] = caught.value.errors()
    assert error["loc"] == ("colour",)
    assert "'bleu' is not a DVLA colour" in error["msg"]


def test_a_query_must_ask_something():
    with pytest.raises(ValidationError, match="needs a registration, make, model or colour"):
        VehicleQuery(registration="  ", make="")


def _sql(pattern: str, dialect: str = "sqlite") -> str:
    compiled = [
        str(c.compile(dialect=(sqlite if dialect == "sqlite" else postgresql).dialect()))
        for c in registration_clauses(pattern, dialect)
    ]
    return " AND ".join(compiled)


@pytest.mark.parametrize(
    ("pattern", "column"),
    [
        ("AB12*", "search_vehicle_keys.mark >="),
        ("AB1?CDE", "search_vehicle_keys.mark >="),
        ("*CDE", "search_vehicle_keys.mark_reversed >="),
        ("A?12CDE", "search_vehicle_keys.mark_reversed >="),
        ("?B12CD?", "search_vehicle_keys.mark_tail >="),
    ],
)
def test_each_pattern_is_answered_by_a_range_on_its_longest_literal_end(pattern, column):
    sql = _sql(pattern)
    assert "GLOB" in sql
    assert column in sql


def test_a_full_mark_is_one_equality_and_a_contains_pattern_reads_the_mark_index():
    assert _sql("AB12CDE") == "search_vehicle_keys.mark = ?"
    assert _sql("*12C*") == "search_vehicle_keys.mark || ? GLOB ?"  # no range: || keeps GLOB off the index
    assert "LIKE" in _sql("AB12*", "postgresql")


def test_the_keys_of_a_vehicle_document_are_normalised():
    row = vehicle_row(
        "v1",
        {
            "registration": {"mark": "AB12CDE", "display": "AB12 CDE"},
            "make": "Land  rover",
            "model": "Defender",
            "colour": "green",
        },
    )
    assert row["mark"] == "AB12CDE"
    assert row["mark_reversed"] == "EDC21BA"
    assert row["mark_tail"] == "B12CDE"
    assert (row["make_key"], row["model_key"], row["colour"]) == ("LAND ROVER", "DEFENDER", "green")
    assert row["registration"] == "AB12 CDE"
    assert mark_key(None) == ""
    assert text_key(None) == ""
    assert vehicle_row("v2", {"description": "burnt out"})["mark"] == ""
