"""The weak band through the API: a caller sees the clear best of what they may see, marked weak.

Real tokens against the hub of ``_store_world`` (embedded, and cluster on NATS
and PostgreSQL). A record the caller may not see changes nothing they are
shown: it neither stands in a weak result's way nor is shown in its place.
"""

from __future__ import annotations

from typing import Any

from _store_world import Hub, envelope, hub, hub_config, prov, settled

from polestar.model import Person
from polestar.search import PersonQuery

__all__ = ["hub", "hub_config"]  # fixtures, used by name

OFFICER = {"subject": "user:pc78", "roles": ["officer"], "clearance": "OFFICIAL-SENSITIVE [PERSONAL]"}
INVESTIGATOR = {"subject": "user:dc6", "roles": ["investigator"], "clearance": "SECRET [PERSONAL]"}
ASKED = {"given": "Sarah", "family": "Browne", "date_of_birth": "1997"}


def _sarah(pid: str, born: str, marking: str = "OFFICIAL") -> Person:
    name = {"given": "Sarah", "family": "Browne"}
    return Person(id=pid, name=name, date_of_birth=born, marking=marking, provenance=prov())


async def _shown(hub: Hub, who: dict[str, Any]) -> list[tuple[str, str]]:
    answer = await hub.client.post("/search/people", json=ASKED, headers=hub.token(**who))
    assert answer.status_code == 200, answer.text
    return [(m["person_id"], m["band"]) for m in answer.json()]


async def _publish(hub: Hub, people: list[Person]) -> None:
    for person in people:
        await hub.bus.publish(envelope(person))
    await settled(hub.client)


async def test_both_names_with_another_date_of_birth_are_shown_weak(hub: Hub) -> None:
    await _publish(hub, [_sarah("s1", "1930-07-23")])
    assert await _shown(hub, OFFICER) == [("s1", "weak")]


async def test_a_hidden_record_does_not_stand_in_a_weak_results_way(hub: Hub) -> None:
    # s2 shares both names with s1, so for the investigator neither stands clear and nothing is
    # shown; the officer cannot see s2, and is shown what the search shows without it.
    await _publish(hub, [_sarah("s1", "1930-07-23"), _sarah("s2", "1950-01-02", "SECRET")])
    assert await _shown(hub, INVESTIGATOR) == []
    assert await _shown(hub, OFFICER) == [("s1", "weak")]


async def test_a_hidden_possible_match_leaves_the_officer_the_weak_one(hub: Hub) -> None:
    await _publish(hub, [_sarah("s1", "1930-07-23"), _sarah("s3", "1997-04-04", "SECRET")])
    investigator = await _shown(hub, INVESTIGATOR)
    assert investigator[0][0] == "s3"
    assert investigator[0][1] in {"strong", "possible"}
    assert "s1" not in [pid for pid, _ in investigator]  # far below the best: not shown
    assert await _shown(hub, OFFICER) == [("s1", "weak")]


async def test_a_persons_merged_records_are_one_candidate_not_two_rivals(hub: Hub) -> None:
    # Custody and CAD each hold Sarah; resolution merges the two records (same names, same date of
    # birth). Both score alike against a mis-stated date, but they are one person: she is shown.
    cad = Person(
        id="s9",
        name={"given": "Sarah", "family": "Browne"},
        date_of_birth="1930-07-23",
        provenance=prov("cad", 5),
    )
    await _publish(hub, [_sarah("s1", "1930-07-23"), cad])
    merged = await hub.client.get("/store/records/s9", headers=hub.token(**INVESTIGATOR))
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == "s1"  # merged into the record held longest
    assert await _shown(hub, OFFICER) == [("s1", "weak")]
    index = hub.app.state.hub.store.index  # the library path, without screening
    assert [(m.person_id, m.band) for m in await index.search(PersonQuery(**ASKED))] == [("s1", "weak")]
