"""Pre-fill offers as many records as the caller may see: hidden ones are left out before its limit.

Real tokens against the hub of ``_store_world`` (embedded, and cluster on NATS and
PostgreSQL). Pre-fill suggests at most ``SUGGESTIONS`` records per thing typed; SECRET
records rank first, and an officer cleared to OFFICIAL-SENSITIVE must still be offered
the records below them, as the search routes do (``test_search_screens_before_limit``).
"""

from __future__ import annotations

from typing import Any

from _store_world import Hub, envelope, hub, hub_config, prov, settled

from polestar.model import Location, Person, Vehicle
from polestar.search.prefill import SUGGESTIONS

__all__ = ["hub", "hub_config"]  # fixtures, used by name

OFFICER = {"subject": "user:pc78", "roles": ["officer"], "clearance": "OFFICIAL-SENSITIVE [PERSONAL]"}
INVESTIGATOR = {"subject": "user:dc6", "roles": ["investigator"], "clearance": "SECRET [PERSONAL]"}
HIDDEN = SUGGESTIONS  # as many SECRET records as pre-fill suggests, ranked before the others


def _marking(i: int) -> str:
    return "SECRET" if i < HIDDEN else "OFFICIAL"


async def _prefill(hub: Hub, who: dict[str, Any], body: dict[str, Any]) -> dict[str, list[str]]:
    answer = await hub.client.post("/prefill", json=body, headers=hub.token(**who))
    assert answer.status_code == 200, answer.text
    return {
        kind: [s["attach"]["id"] for group in answer.json()[kind] for s in group["suggestions"]]
        for kind in ("people", "vehicles", "places")
    }


async def test_an_officer_is_offered_the_records_below_hidden_ones(hub: Hub) -> None:
    # Women born in 1982 (different days, so not one person): a year scores alike for each, and
    # equal scores rank by id. Marks and addresses (flats of one house, UPRNs apart) likewise.
    people = [
        Person(
            id=f"g{i}",
            name={"given": "Gwenllian", "family": "Prydderch"},
            date_of_birth=f"1982-0{i + 1}-1{i}",
            marking=_marking(i),
            provenance=prov(),
        )
        for i in range(HIDDEN + 3)
    ]
    vehicles = [
        Vehicle(id=f"w{i}", registration={"mark": f"XY{i}0 ABC"}, marking=_marking(i), provenance=prov("pnc"))
        for i in range(HIDDEN + 2)
    ]
    places = [
        Location(
            id=f"q{i}",
            address={
                "lines": ["9 Heol Prydderch"],
                "town": "Neath",
                "postcode": "SA11 3QQ",
                "uprn": f"1000{i}",
            },
            marking=_marking(i),
            provenance=prov(f"cad{i}"),
        )
        for i in range(HIDDEN + 2)
    ]
    for entity in [*people, *vehicles, *places]:
        await hub.bus.publish(envelope(entity))
    await settled(hub.client)
    typed = {
        "people": [{"given": "Gwenllian", "family": "Prydderch", "date_of_birth": "1982"}],
        "vehicles": [{"registration": "XY*"}],
        "places": [{"text": "9 Heol Prydderch", "postcode": "SA11 3QQ"}],
    }
    seen = await _prefill(hub, INVESTIGATOR, typed)
    assert seen["people"] == [f"g{i}" for i in range(HIDDEN)]
    assert seen["vehicles"] == [f"w{i}" for i in range(HIDDEN)]
    assert len(seen["places"]) == SUGGESTIONS
    offered = await _prefill(hub, OFFICER, typed)
    assert offered["people"] == ["g5", "g6", "g7"]
    assert offered["vehicles"] == ["w5", "w6"]
    assert offered["places"] == ["q5", "q6"]
