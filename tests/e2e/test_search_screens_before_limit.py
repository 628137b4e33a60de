"""A caller asking for ``limit`` results gets that many they may see: hidden records are only ever absent.

Real tokens against the hub of ``_store_world`` (embedded, and cluster on NATS
and PostgreSQL). SECRET records rank first; an officer cleared to
OFFICIAL-SENSITIVE must still get a full page of the records below them, and
the consultation names only the records returned.
"""

from __future__ import annotations

from typing import Any

from _store_world import Hub, envelope, hub, hub_config, prov, settled

from polestar.audit import AuditQuery, Operation
from polestar.model import Person, Vehicle

__all__ = ["hub", "hub_config"]  # fixtures, used by name

OFFICER = {"subject": "user:pc78", "roles": ["officer"], "clearance": "OFFICIAL-SENSITIVE [PERSONAL]"}
INVESTIGATOR = {"subject": "user:dc6", "roles": ["investigator"], "clearance": "SECRET [PERSONAL]"}
GWEN = {"given": "Gwenllian", "family": "Prydderch", "date_of_birth": "1982-04-05"}


async def _publish(hub: Hub, entities: list[Any]) -> None:
    for entity in entities:
        await hub.bus.publish(envelope(entity))
    await settled(hub.client)


def _gwen(pid: str, marking: str, date_of_birth: str | None = GWEN["date_of_birth"]) -> Person:
    name = {"given": GWEN["given"], "family": GWEN["family"]}
    return Person(id=pid, name=name, date_of_birth=date_of_birth, marking=marking, provenance=prov())


async def _people(hub: Hub, who: dict[str, Any], body: dict[str, Any]) -> list[str]:
    answer = await hub.client.post("/search/people", json=body, headers=hub.token(**who))
    assert answer.status_code == 200, answer.text
    return [m["person_id"] for m in answer.json()]


async def test_an_officer_gets_a_full_page_of_people_below_hidden_ones(hub: Hub) -> None:
    # Six women born in 1982 (different days, so not one person); a year scores alike for each, and
    # equal scores rank by id, so the SECRET records g0..g2 come first.
    people = [_gwen(f"g{i}", "SECRET" if i < 3 else "OFFICIAL", f"1982-0{i + 1}-1{i}") for i in range(6)]
    await _publish(hub, people)
    asked = {**GWEN, "date_of_birth": "1982", "limit": 3}
    assert await _people(hub, INVESTIGATOR, asked) == ["g0", "g1", "g2"]
    assert await _people(hub, OFFICER, asked) == ["g3", "g4", "g5"]

    log = hub.app.state.hub.audit.log
    consulted = await log.find(AuditQuery(operation=Operation.CONSULTATION, actor="user:pc78"))
    searches = [r for r in consulted if r.service == "polestar-search"]
    assert [sorted(r.record_ids) for r in searches] == [["g3", "g4", "g5"]]


async def test_a_hidden_best_match_does_not_cut_what_an_officer_is_shown(hub: Hub) -> None:
    # Shown: no more than ``gap`` bits below the best. The best here is SECRET, and the record
    # without a date of birth is far below it, but it is the best the officer may see.
    await _publish(hub, [_gwen("h1", "SECRET"), _gwen("h2", "OFFICIAL", date_of_birth=None)])
    assert await _people(hub, INVESTIGATOR, GWEN) == ["h1"]
    assert await _people(hub, OFFICER, GWEN) == ["h2"]


async def test_an_officer_gets_a_full_page_of_vehicles_below_hidden_ones(hub: Hub) -> None:
    vehicles = [
        Vehicle(
            id=f"w{i}",
            registration={"mark": f"XY{i}0 ABC"},
            make="Vauxhall",
            marking="SECRET" if i < 4 else "OFFICIAL",
            provenance=prov("pnc"),
        )
        for i in range(7)
    ]
    await _publish(hub, vehicles)
    for who, expected in ((INVESTIGATOR, ["w0", "w1"]), (OFFICER, ["w4", "w5"])):
        answer = await hub.client.post(
            "/search/vehicles", json={"registration": "XY*", "limit": 2}, headers=hub.token(**who)
        )
        assert answer.status_code == 200, answer.text
        assert [v["vehicle_id"] for v in answer.json()] == expected
