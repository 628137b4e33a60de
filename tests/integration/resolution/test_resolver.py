"""Entity resolution: strong identifiers merge, likely matches go to review, strangers stay new."""

from __future__ import annotations

import pytest
from _resolution_helpers import PNC_A, PNC_B, arrive, person, pnc

from polestar.resolution import Outcome, ReviewDecided, ReviewStatus


async def test_same_pnc_id_merges_whatever_the_name(resolver):
    await arrive(resolver, person("c1", "Robert", "Smith", identifiers=pnc(PNC_A)))
    await arrive(resolver, person("d1", "Bobby", "Smyth", system="cad", identifiers=pnc(PNC_A)))
    result = await resolver.resolve("d1")
    assert result.outcome is Outcome.MERGED
    assert result.candidate_id == "c1"
    assert "PNC" in result.reason
    assert (await resolver.store.get("d1")).id == "c1"


async def test_name_and_full_date_of_birth_merge_and_the_merge_can_be_undone(resolver):
    await arrive(resolver, person("c1", "Catherine", "O'Neill", date_of_birth="1990-03-14", gender="2"))
    await arrive(
        resolver, person("d1", "Kate", "ONeill", date_of_birth="1990-03-14", gender="2", system="cad")
    )
    result = await resolver.resolve("d1")
    assert result.outcome is Outcome.MERGED
    await resolver.store.unmerge(result.merge_id, actor="user:ds7", reason="different people")
    again = await resolver.resolve("d1")
    assert again.outcome is Outcome.REVIEW  # a person's unmerge overrides the matcher


async def test_partial_agreement_goes_to_review_and_a_person_decides(resolver):
    await arrive(resolver, person("c1", "Robert", "Smith", date_of_birth="1985"))
    await arrive(resolver, person("d1", "Robert", "Smith", date_of_birth="1985", system="cad"))
    result = await resolver.resolve("d1")
    assert result.outcome is Outcome.REVIEW
    pending = await resolver.reviews()
    assert [(r.record_id, r.candidate_id) for r in pending] == [("d1", "c1")]
    decided = await resolver.decide(pending[0].id, same=True, actor="user:ds7", reason="same custody photo")
    assert decided.status is ReviewStatus.MERGED
    assert decided.merge_id is not None
    assert (await resolver.store.get("d1")).id == "c1"
    with pytest.raises(ReviewDecided):
        await resolver.decide(pending[0].id, same=False, actor="user:ds7", reason="changed my mind")


async def test_different_people_and_conflicting_pnc_ids_stay_apart(resolver):
    await arrive(
        resolver, person("c1", "Robert", "Smith", date_of_birth="1985-06-14", identifiers=pnc(PNC_A))
    )
    await arrive(resolver, person("d1", "Mary", "Jones", date_of_birth="1971-01-01"))
    await arrive(
        resolver, person("d2", "Robert", "Smith", date_of_birth="1985-06-14", identifiers=pnc(PNC_B))
    )
    assert (await resolver.resolve("d1")).outcome is Outcome.NEW
    assert (await resolver.resolve("d2")).outcome is Outcome.NEW


async def test_erasure_removes_the_persons_reviews(resolver):
    await arrive(resolver, person("c1", "Robert", "Smith", date_of_birth="1985"))
    await arrive(resolver, person("d1", "Robert", "Smith", date_of_birth="1985", system="cad"))
    await resolver.resolve("d1")
    rows = await resolver.store.rows_for_subject("d1")
    assert any(r.component == "resolution" for r in rows)
    await resolver.store.erase_subject("d1", actor="user:dpo", reason="s47 request")
    assert await resolver.reviews(status=None) == []


async def test_a_new_holder_of_a_pnc_does_not_rejoin_two_records_a_person_unmerged(resolver):
    # c1 and d1 share a PNC ID; a person decided they are two people and undid the merge. A third
    # record with that PNC ID is folded with the eldest holder, never used to merge the two again.
    await arrive(resolver, person("c1", "Robert", "Smith", identifiers=pnc(PNC_A)))
    await arrive(resolver, person("d1", "Bobby", "Smyth", system="cad", identifiers=pnc(PNC_A)))
    merged = await resolver.resolve("d1")
    await resolver.store.unmerge(
        merged.merge_id, actor="user:ds7", reason="PNC ID keyed against the wrong man"
    )
    await arrive(resolver, person("e1", "Rob", "Smith", system="rms", identifiers=pnc(PNC_A)))
    result = await resolver.resolve("e1")
    assert result.outcome is Outcome.MERGED
    assert (await resolver.store.get("e1")).id == "c1"
    assert (await resolver.store.get("d1")).id == "d1"  # still apart
