"""Applying events: creation, updates with history (who, when, which message), versions out of order,
idempotence by envelope id, and provenance kept side by side where sources disagree."""

from __future__ import annotations

import asyncio

import pytest
from _store_helpers import event, person, put, vehicle

from polestar.model import ProtectiveMarking
from polestar.store import NotAnEntity, Operation, Outcome


async def test_a_person_is_created_then_updated_with_history_naming_actor_and_message(store):
    first = event(person("p-1"), actor="user:PC1234@met", correlationid="flow-1")
    second = event(person("p-1", version=2, family="Jones", at=5), actor="system:pnc")

    created = await store.apply(first)
    updated = await store.apply(second)

    assert (created.outcome, created.version) == (Outcome.CREATED, 1)
    assert (updated.outcome, updated.version, updated.changed_fields) == (Outcome.UPDATED, 2, ("name",))
    stored = await store.get("p-1")
    assert stored.version == 2
    assert stored.document["name"]["family"] == "Jones"
    history = await store.history("p-1")
    assert [(h.seq, h.version, h.operation) for h in history] == [
        (1, 1, Operation.CREATED),
        (2, 2, Operation.UPDATED),
    ]
    assert (history[0].actor, history[0].message_id, history[0].correlation_id) == (
        "user:PC1234@met",
        first.id,
        "flow-1",
    )
    assert history[0].document["name"]["family"] == "Morgan"
    assert (history[1].actor, history[1].message_id, history[1].changed_fields) == (
        "system:pnc",
        second.id,
        ("name",),
    )


async def test_the_same_envelope_twice_changes_nothing_the_second_time(store):
    envelope = event(person("p-1"))
    assert (await store.apply(envelope)).outcome is Outcome.CREATED
    assert (await store.apply(envelope)).outcome is Outcome.DUPLICATE
    assert len(await store.history("p-1")) == 1


async def test_an_older_version_arriving_late_is_kept_as_provenance_but_does_not_overwrite(store):
    await put(store, person("p-1", version=3, family="Jones", at=10))
    late = await store.apply(event(person("p-1", version=2, family="Morgan", system="cad", at=5)))

    assert late.outcome is Outcome.STALE
    stored = await store.get("p-1")
    assert (stored.version, stored.document["name"]["family"]) == (3, "Jones")
    assert len(await store.history("p-1")) == 1
    names = {
        (c.system, c.value["family"], c.current) for c in await store.provenance("p-1") if c.path == "name"
    }
    assert names == {("custody", "Jones", True), ("cad", "Morgan", False)}


async def test_a_repeat_of_the_current_version_is_unchanged(store):
    await put(store, person("p-1"))
    again = await store.apply(event(person("p-1")))
    assert again.outcome is Outcome.UNCHANGED
    assert len(await store.history("p-1")) == 1


async def test_disagreeing_sources_are_kept_side_by_side_and_the_newest_observation_wins(store):
    await put(store, person("p-1", place_of_birth="Cardiff", at=10))
    # PNC sends version 2 later, but its fact was observed before custody's.
    result = await store.apply(
        event(person("p-1", version=2, place_of_birth="Swansea", system="pnc", at=20, observed=5))
    )

    assert result.outcome is Outcome.UPDATED
    stored = await store.get("p-1")
    assert stored.document["place_of_birth"] == "Cardiff"
    assert stored.document["provenance"]["system"] == "pnc"
    claims = [c for c in await store.provenance("p-1") if c.path == "place_of_birth"]
    assert {(c.system, c.value, c.current) for c in claims} == {
        ("custody", "Cardiff", True),
        ("pnc", "Swansea", False),
    }

    # A newer observation from PNC wins.
    await store.apply(event(person("p-1", version=3, place_of_birth="Newport", system="pnc", at=30)))
    assert (await store.get("p-1")).document["place_of_birth"] == "Newport"


async def test_a_tie_in_observation_time_goes_to_the_source_with_higher_priority(make_store):
    store = await make_store(source_priority={"pnc": 10})
    await put(store, person("p-1", place_of_birth="Swansea", system="pnc", at=10))
    await store.apply(event(person("p-1", version=2, place_of_birth="Cardiff", system="custody", at=10)))
    assert (await store.get("p-1")).document["place_of_birth"] == "Swansea"


async def test_a_field_one_source_does_not_know_does_not_blank_another_sources_value(store):
    await put(store, person("p-1", place_of_birth="Cardiff", gender="1"))
    await store.apply(
        event(person("p-1", version=2, system="cad", at=10))
    )  # no place of birth, gender not known
    document = (await store.get("p-1")).document
    assert (document["place_of_birth"], document["gender"]) == ("Cardiff", "1")


async def test_a_source_withdrawing_its_own_value_removes_it(store):
    await put(store, person("p-1", place_of_birth="Cardiff"))
    result = await store.apply(event(person("p-1", version=2, at=10)))
    assert result.changed_fields == ("place_of_birth",)
    assert "place_of_birth" not in (await store.get("p-1")).document


async def test_the_marking_never_drops_below_a_value_it_shows(store):
    secret = person("p-1", place_of_birth="Cardiff", marking="SECRET", at=10)
    await put(store, secret)
    await store.apply(event(person("p-1", version=2, system="cad", at=5, observed=1)))
    stored = await store.get("p-1")
    assert stored.marking == "SECRET"
    assert await store.get("p-1", clearance=ProtectiveMarking.parse("OFFICIAL")) is None
    assert await store.get("p-1", clearance=ProtectiveMarking.parse("SECRET")) is not None


async def test_an_event_without_a_pole_entity_is_refused_and_leaves_no_trace(store):
    envelope = event(person("p-1")).model_copy(update={"dataschema": None})
    with pytest.raises(NotAnEntity, match="no dataschema"):
        await store.apply(envelope)
    invalid = event(person("p-1")).model_copy(update={"data": {"id": "p-1"}})
    with pytest.raises(NotAnEntity, match="invalid data"):
        await store.apply(invalid)
    assert await store.get("p-1") is None


async def test_an_id_cannot_change_kind(store):
    await put(store, person("x-1"))
    with pytest.raises(NotAnEntity, match="which is a person"):
        await store.apply(event(vehicle("x-1")))
    assert (await store.get("x-1")).kind == "person"


async def test_concurrent_writers_of_one_record_neither_lose_nor_double_an_alteration(store):
    envelope = event(person("p-1"))
    outcomes = await asyncio.gather(*(store.apply(envelope) for _ in range(4)))
    assert sorted(o.outcome for o in outcomes) == sorted([Outcome.CREATED] + [Outcome.DUPLICATE] * 3)
    versions = [event(person("p-1", version=v, family=f"F{v}", at=v)) for v in range(2, 8)]
    await asyncio.gather(*(store.apply(e) for e in versions))
    stored = await store.get("p-1")
    assert (stored.version, stored.document["name"]["family"]) == (7, "F7")
    assert [h.seq for h in await store.history("p-1")] == list(range(1, len(await store.history("p-1")) + 1))
