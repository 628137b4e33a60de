"""Which applied events are worth resolving again."""

from __future__ import annotations

import pytest

from polestar.resolution.batch import worth_resolving
from polestar.store import Outcome


@pytest.mark.parametrize(
    ("kind", "changed"),
    [
        ("person", ("marking",)),
        ("person", ("occupation", "nationality")),
        ("vehicle", ("colour", "make")),
        ("location", ("coordinates",)),
    ],
)
def test_an_update_of_fields_resolution_does_not_compare_is_not_resolved_again(kind, changed):
    assert not worth_resolving(kind, Outcome.UPDATED, changed)


@pytest.mark.parametrize(
    ("kind", "changed"),
    [
        ("person", ("marking", "name")),
        ("person", ("date_of_birth",)),
        ("person", ("identifiers",)),
        ("person", ("aliases",)),
        ("vehicle", ("registration",)),
        ("vehicle", ("vin",)),
        ("location", ("address",)),
    ],
)
def test_an_update_of_a_compared_field_is_resolved_again(kind, changed):
    assert worth_resolving(kind, Outcome.UPDATED, changed)


@pytest.mark.parametrize("outcome", [Outcome.CREATED, Outcome.DUPLICATE])
def test_new_records_and_redeliveries_are_always_resolved(outcome):
    assert worth_resolving("person", outcome, ())


def test_an_update_that_names_no_changed_field_is_resolved_to_be_safe():
    assert worth_resolving("person", Outcome.UPDATED, ())
