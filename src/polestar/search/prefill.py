"""Pre-fill (flow 5, "re-use, don't re-key"): what an officer typed on a new crime report → known records.

For each person, vehicle and place typed, the known records that match, best
first and banded like every search, each ready to attach: its reference
(``attach``: type and id), its current document to fill the form from, a line
to recognise it by, why it matched, and the places and vehicles (for a
person) or people (for a vehicle or place) directly linked to it, so the
officer can attach those too without typing them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from polestar.model.codes import EntityType
from polestar.model.common import EntityRef
from polestar.search.index import Screen, SearchIndex
from polestar.search.links import LinkedRecord, describe, linked_records
from polestar.search.locations import LocationMatch, LocationQuery, search_locations
from polestar.search.query import Band, PersonQuery
from polestar.search.scoring import FieldMatch
from polestar.search.vehicles import VehicleMatch, VehicleQuery, search_vehicles
from polestar.store import SqlStore

MAX_TYPED = 20
SUGGESTIONS = 5
"""Most known records suggested for one typed person, vehicle or place."""


class PrefillRequest(BaseModel):
    """What the officer has typed so far on a new crime report."""

    model_config = ConfigDict(extra="forbid")

    people: list[PersonQuery] = Field(default_factory=list, max_length=MAX_TYPED)
    vehicles: list[VehicleQuery] = Field(default_factory=list, max_length=MAX_TYPED)
    places: list[LocationQuery] = Field(default_factory=list, max_length=MAX_TYPED)


class Suggestion(BaseModel):
    """A known record for something typed, ready to attach to the report."""

    model_config = ConfigDict(frozen=True)

    attach: EntityRef = Field(description="The reference to put on the report.")
    band: Band
    score: float | None = Field(description="Bits of evidence; None where every criterion is exact.")
    description: str | None
    fields: tuple[FieldMatch, ...] = Field(description="Why it matched, field by field.")
    document: dict[str, Any] = Field(description="The record as held now, to fill the form from.")
    linked: list[LinkedRecord] = Field(description="Records directly linked to it, to attach as well.")


class TypedPerson(BaseModel):
    """One person as typed and the known people for them."""

    typed: PersonQuery
    suggestions: list[Suggestion]


class TypedVehicle(BaseModel):
    """One vehicle as typed and the known vehicles for it."""

    typed: VehicleQuery
    suggestions: list[Suggestion]


class TypedPlace(BaseModel):
    """One place as typed and the known places for it."""

    typed: LocationQuery
    suggestions: list[Suggestion]


class PrefillResponse(BaseModel):
    """Known people, vehicles and places for what was typed, ready to attach."""

    people: list[TypedPerson]
    vehicles: list[TypedVehicle]
    places: list[TypedPlace]

    def record_ids(self) -> list[str]:
        """Every record shown (the audit log's consultation names them)."""
        shown: list[str] = []
        groups: list[list[Suggestion]] = [
            *(g.suggestions for g in self.people),
            *(g.suggestions for g in self.vehicles),
            *(g.suggestions for g in self.places),
        ]
        for suggestions in groups:
            for s in suggestions:
                shown.append(s.attach.id)
                shown.extend(r.entity_id for r in s.linked)
        return list(dict.fromkeys(shown))


_LINKED_KINDS = {"person": ("location", "vehicle"), "vehicle": ("person",), "location": ("person",)}


async def prefill(
    store: SqlStore, index: SearchIndex, request: PrefillRequest, *, visible: Screen | None = None
) -> PrefillResponse:
    """The known records for everything typed on ``request``.

    With ``visible`` (which records the caller may see), each search leaves out hidden
    records *before* taking its ``SUGGESTIONS``, as the search routes do, so a caller is
    offered as many records as it may see; the route still screens the response
    (``screen_prefill``: documents redacted, links screened).
    """
    people = []
    for typed in request.people:
        query = typed.model_copy(update={"limit": min(typed.limit, SUGGESTIONS)})
        matches = await index.search(query, visible=visible)
        found = [await _suggest(store, "person", m.person_id, m.band, m.score, m.fields) for m in matches]
        people.append(TypedPerson(typed=typed, suggestions=[s for s in found if s is not None]))
    vehicles = []
    for wanted in request.vehicles:
        asked_vehicle = wanted.model_copy(update={"limit": min(wanted.limit, SUGGESTIONS)})
        found_vehicles = await _search(store, asked_vehicle, search_vehicles, _vehicle_id, visible)
        exact = bool(asked_vehicle.registration) and not any(c in asked_vehicle.pattern_text for c in "?*")
        suggestions = []
        for v in found_vehicles:
            why = tuple(FieldMatch(f, "same", 0.0, f"{f} as typed") for f in v.matched)
            band = Band.STRONG if exact or not asked_vehicle.registration else Band.POSSIBLE
            suggestion = await _suggest(store, "vehicle", v.vehicle_id, band, None, why)
            if suggestion is not None:
                suggestions.append(suggestion)
        vehicles.append(TypedVehicle(typed=wanted, suggestions=suggestions))
    places = []
    for place in request.places:
        asked_place = place.model_copy(update={"limit": min(place.limit, SUGGESTIONS)})
        found_places = await _search(store, asked_place, search_locations, _place_id, visible)
        suggestions = []
        for p in found_places:
            suggestion = await _suggest(store, "location", p.location_id, p.band, p.score, p.fields)
            if suggestion is not None:
                suggestions.append(suggestion)
        places.append(TypedPlace(typed=place, suggestions=suggestions))
    return PrefillResponse(people=people, vehicles=vehicles, places=places)


Q = TypeVar("Q", VehicleQuery, LocationQuery)
M = TypeVar("M", VehicleMatch, LocationMatch)


async def _search(
    store: SqlStore,
    query: Q,
    search: Callable[[Connection, Q], list[M]],
    id_of: Callable[[M], str],
    visible: Screen | None,
) -> list[M]:
    """``search`` for ``query.limit`` results; with ``visible``, that many the caller may see."""

    async def fetch(limit: int) -> list[M]:
        asked = query.model_copy(update={"limit": limit})
        found: list[M] = await _blocking(store, lambda conn: search(conn, asked))
        return found

    if visible is None:
        return await fetch(query.limit)

    async def shown(found: list[M]) -> list[M]:
        seen = await visible([id_of(m) for m in found])
        return [m for m in found if id_of(m) in seen]

    # Imported here: screening imports this module (it screens the response).
    from polestar.search.screening import until_shown  # noqa: PLC0415

    return await until_shown(query.limit, fetch, shown)


def _vehicle_id(match: VehicleMatch) -> str:
    return match.vehicle_id


def _place_id(match: LocationMatch) -> str:
    return match.location_id


async def _suggest(  # noqa: PLR0917 - the parts of one search result, in the order they read
    store: SqlStore,
    kind: str,
    record_id: str,
    band: Band,
    score: float | None,
    fields: tuple[FieldMatch, ...],
) -> Suggestion | None:
    record = await store.get(record_id)
    if record is None:
        return None  # erased between the search and now
    around = await linked_records(store, record.id, hops=1, kinds=_LINKED_KINDS[kind])
    return Suggestion(
        attach=EntityRef(type=EntityType(kind), id=record.id),
        band=band,
        score=score,
        description=describe(kind, record.document),
        fields=fields,
        document=record.document,
        linked=[] if around is None else around.linked,
    )


async def _blocking(store: SqlStore, work: Any) -> Any:
    def in_thread() -> Any:
        with store.engine.connect() as conn:
            return work(conn)

    return await asyncio.to_thread(in_thread)
