"""The record held longest survives a fold, whichever of the two asks; equal ages fall to the id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from polestar.resolution.folding import elder
from polestar.store import StoredEntity

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def held(record_id: str, minutes: int) -> StoredEntity:
    at = T0 + timedelta(minutes=minutes)
    return StoredEntity(
        id=record_id,
        kind="person",
        version=1,
        document={},
        marking="OFFICIAL",
        created_at=at,
        updated_at=at,
        requested_id=record_id,
    )


@pytest.mark.parametrize(
    ("one", "other", "survivor"),
    [
        (held("b", 0), held("a", 5), "b"),  # older wins over a smaller id
        (held("a", 5), held("b", 0), "b"),
        (held("b", 0), held("a", 0), "a"),  # same moment (one batch): the smaller id
        (held("a", 0), held("b", 0), "a"),
    ],
)
def test_the_elder_survives_whichever_order_the_pair_is_given(one, other, survivor):
    kept, merged = elder(one, other)
    assert kept.id == survivor
    assert {kept.id, merged.id} == {one.id, other.id}
