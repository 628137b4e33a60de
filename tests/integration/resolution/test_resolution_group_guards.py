"""A fold joins two *groups*: it is refused when the groups, as they are by then, may not be one.

Folding every holder of a strong identifier, and folding again after a resolution
alongside moved a record, both meet groups the resolver did not judge: one may hold
a CRO number the other contradicts, or a record a person unmerged from the other.
Each test here merged what it should not on the code before the check (SQLite and
PostgreSQL, through the ``resolver`` fixture).
"""

from __future__ import annotations

from typing import Any

from _resolution_helpers import PNC_A, arrive, person

from polestar.model.identifiers import check_letter
from polestar.resolution import Outcome


def _cro(serial: int, year: str) -> str:
    digits = f"{serial:06d}"
    return f"{digits}/{year}{check_letter(int(year + digits))}"


CRO_X, CRO_Y = _cro(123456, "85"), _cro(654321, "90")


def _ids(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"type": kind, "value": value} for kind, value in pairs]


def _racing(resolver: Any, record_id: str, before: Any) -> None:
    """Run ``before()`` (another resolution's merge) as ``record_id`` is about to fold."""
    real = resolver._fold

    async def fold(record: str, other: str, *args: Any, **kwargs: Any) -> Any:
        if record == record_id:
            await before(other)
        return await real(record, other, *args, **kwargs)

    resolver._fold = fold


async def test_a_third_holder_of_a_pnc_does_not_join_two_records_whose_cro_numbers_differ(resolver):
    await arrive(resolver, person("a1", "Robert", "Smith", identifiers=_ids(("PNC", PNC_A), ("CRO", CRO_X))))
    await arrive(
        resolver,
        person("b1", "John", "Brown", system="cad", identifiers=_ids(("PNC", PNC_A), ("CRO", CRO_Y))),
    )
    assert (await resolver.resolve("b1")).outcome is Outcome.REVIEW  # same PNC, different CRO
    await arrive(resolver, person("e1", "Rob", "Smith", system="rms", identifiers=_ids(("PNC", PNC_A))))
    result = await resolver.resolve("e1")
    assert result.outcome is Outcome.MERGED
    assert [(await resolver.store.get(i)).id for i in ("a1", "b1", "e1")] == ["a1", "b1", "a1"]


async def test_a_record_merged_elsewhere_meanwhile_is_not_folded_into_a_group_that_differs(resolver):
    await arrive(resolver, person("a1", "Robert", "Smith", identifiers=_ids(("PNC", PNC_A), ("CRO", CRO_X))))
    await arrive(resolver, person("f1", "Rob", "Smith", system="cad", identifiers=_ids(("CRO", CRO_Y))))
    await arrive(resolver, person("e1", "Rob", "Smith", system="rms", identifiers=_ids(("PNC", PNC_A))))

    async def alongside(_: str) -> None:  # another resolution folds e1 into f1 first
        await resolver.store.merge("f1", "e1", actor="system:alongside", reason="test")

    _racing(resolver, "e1", alongside)
    result = await resolver.resolve("e1")
    assert result.outcome is Outcome.REVIEW
    assert [(await resolver.store.get(i)).id for i in ("a1", "f1", "e1")] == ["a1", "f1", "f1"]


async def test_a_candidate_merged_meanwhile_into_a_record_a_person_unmerged_is_not_joined(resolver):
    await arrive(resolver, person("a1", "Catherine", "O'Neill", date_of_birth="1990-03-14"))
    await arrive(
        resolver, person("e1", "Catherine", "O'Neill", date_of_birth="1990-03-14", gender="2", system="cad")
    )
    first = await resolver.resolve("e1")
    assert first.outcome is Outcome.MERGED
    await resolver.store.unmerge(first.merge_id, actor="user:ds7", reason="two different women")
    await arrive(
        resolver, person("b1", "Catherine", "O'Neill", date_of_birth="1990-03-14", gender="2", system="rms")
    )

    async def alongside(other: str) -> None:  # b1 is folded into a1 by another resolution first
        if other == "b1":
            await resolver.store.merge("a1", "b1", actor="system:alongside", reason="test")

    _racing(resolver, "e1", alongside)
    result = await resolver.resolve("e1")
    assert result.outcome is not Outcome.MERGED
    assert (await resolver.store.get("e1")).id == "e1"  # still apart from a1, as a person decided
