"""The provenance rules, without a database: which claim wins, what a document claims, what changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polestar.model import Person
from polestar.model.testing import persons
from polestar.store.provenance import (
    Claim,
    changed_fields,
    claims_of,
    compose,
    join_markings,
    reconcile,
    winners,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)

PERSONS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""A whole Person with its names, identifiers and provenance is slow to draw on a busy machine."""


def claim(
    system: str, value: object, *, observed: int = 0, version: int = 1, path: str = "place_of_birth"
) -> Claim:
    at = T0 + timedelta(minutes=observed)
    return Claim(path, system, value, "01", None, at, at, version, "OFFICIAL", None)


def test_the_newest_observation_wins_whatever_the_version():
    chosen = winners(
        [claim("pnc", "Swansea", observed=5, version=9), claim("custody", "Cardiff", observed=10)], {}
    )
    assert chosen["place_of_birth"].value == "Cardiff"


def test_a_tie_goes_to_the_higher_priority_source():
    claims = [claim("pnc", "Swansea"), claim("custody", "Cardiff")]
    assert winners(claims, {"pnc": 1})["place_of_birth"].value == "Swansea"
    assert winners(claims, {"custody": 1})["place_of_birth"].value == "Cardiff"


def test_a_sources_older_claim_never_replaces_its_newer_one():
    stored = [claim("pnc", "Swansea", version=3)]
    changes = reconcile(stored, {"place_of_birth": claim("pnc", "Cardiff", version=2)}, "pnc", 2)
    assert changes.upsert == ()
    assert [c.value for c in changes.claims] == ["Swansea"]


def test_a_newer_document_without_the_field_withdraws_only_its_own_sources_claim():
    stored = [claim("pnc", "Swansea"), claim("custody", "Cardiff")]
    changes = reconcile(stored, {}, "pnc", 2)
    assert changes.withdraw == (("place_of_birth", "pnc"),)
    assert [c.system for c in changes.claims] == ["custody"]


def test_defaults_and_empty_fields_are_not_claims():
    person = Person(
        id="p-1",
        name={"given": "Sarah"},
        provenance={"organisation": "01", "system": "cad", "recorded_at": T0},
    )
    assert set(claims_of(person, "m-1")) == {"name"}


def test_the_joined_marking_dominates_every_part():
    joined = join_markings(["OFFICIAL-SENSITIVE [PERSONAL]", "SECRET [UK EYES ONLY]"])
    assert joined.label == "SECRET [PERSONAL, UK EYES ONLY]"
    assert join_markings(["OFFICIAL", "OFFICIAL-SENSITIVE"]).label == "OFFICIAL-SENSITIVE"


def test_version_and_provenance_alone_are_not_changes():
    before = {"id": "p", "version": 1, "provenance": {"system": "a"}, "name": {"given": "A"}}
    after = {"id": "p", "version": 2, "provenance": {"system": "b"}, "name": {"given": "A"}, "gender": "1"}
    assert changed_fields(before, after) == ("gender",)


@PERSONS
@given(persons())
def test_a_record_composed_from_its_own_claims_is_itself(person):
    chosen = winners(claims_of(person, "m-1").values(), {})
    assert compose(person, chosen) == person


@given(st.integers(0, 3))
def test_the_winner_is_always_one_of_the_claims(extra):
    claims = [claim(f"s{i}", f"v{i}", observed=i % 2) for i in range(extra + 1)]
    chosen = winners(claims, {})["place_of_birth"]
    assert chosen in claims
    assert chosen.observed_at == max(c.observed_at for c in claims)
