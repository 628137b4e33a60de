"""The search API: people, vehicles, associates, and pre-fill for a new crime report (flow 5).

``create_search_router(store, index)`` gives the routes; the hub's app includes
it. Results are ranked, banded and explained; only 'possible' and above are
shown unless the query asks for more.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from polestar.search.index import SearchIndex
from polestar.search.query import PersonMatch, PersonQuery
from polestar.search.vehicles import VehicleMatch, VehicleQuery, search_vehicles
from polestar.store import MAX_HOPS, SqlStore


class AssociateOut(BaseModel):
    """An entity linked to the one asked about, within the hops asked."""

    entity_id: str
    kind: str
    depth: int
    role: str
    via_link: str
    reached_from: str


class AssociatesOut(BaseModel):
    """Associates of one record, nearest first."""

    root: str
    associates: list[AssociateOut]
    truncated: bool


class PrefillRequest(BaseModel):
    """What the officer has typed so far on a new crime report."""

    model_config = ConfigDict(extra="forbid")

    people: list[PersonQuery] = Field(default_factory=list, max_length=20)
    vehicles: list[str] = Field(default_factory=list, max_length=20, description="Registrations as typed.")


class PersonSuggestion(BaseModel):
    """A known person for one typed person, ready to attach, with the places linked to them."""

    typed: PersonQuery
    matches: list[PersonMatch]
    places: list[str] = Field(description="Location ids linked to the best match.")


class PrefillResponse(BaseModel):
    """Known people, vehicles and places, ready to attach to the report."""

    people: list[PersonSuggestion]
    vehicles: list[VehicleMatch]


def create_search_router(store: SqlStore, index: SearchIndex) -> APIRouter:
    """The ``/search`` and ``/prefill`` routes over ``store`` and its search ``index``."""
    router = APIRouter(tags=["search"])

    @router.post("/search/people", response_model=list[PersonMatch])
    async def search_people(query: PersonQuery) -> list[PersonMatch]:
        """People by name (phonetic, fuzzy, nicknames, aliases, swapped), date of birth or age, gender."""
        return await index.search(query)

    @router.post("/search/vehicles", response_model=list[VehicleMatch])
    async def search_vehicle(query: VehicleQuery) -> list[VehicleMatch]:
        """Vehicles by full or partial registration (``?`` one character, ``*`` any), make, model, colour."""
        return await _vehicles(store, query)

    @router.get("/search/associates/{entity_id}", response_model=AssociatesOut)
    async def associates(
        entity_id: Annotated[str, Path(max_length=128)],
        hops: Annotated[int, Query(ge=1, le=MAX_HOPS)] = 2,
    ) -> AssociatesOut:
        """Everything linked to the record within ``hops`` links, nearest first."""
        if await store.get(entity_id) is None:
            raise HTTPException(status_code=404, detail=f"no record {entity_id}")
        found = await store.traverse(entity_id, hops=hops)
        return AssociatesOut(
            root=found.root,
            associates=[
                AssociateOut(
                    entity_id=a.entity_id,
                    kind=a.kind,
                    depth=a.depth,
                    role=a.role,
                    via_link=a.via_link,
                    reached_from=a.reached_from,
                )
                for a in found.associates
            ],
            truncated=found.truncated,
        )

    @router.post("/prefill", response_model=PrefillResponse)
    async def prefill(request: PrefillRequest) -> PrefillResponse:
        """Known people (with their places) and vehicles for what was typed on a new crime report."""
        people = []
        for typed in request.people:
            matches = await index.search(typed.model_copy(update={"limit": min(typed.limit, 5)}))
            places: list[str] = []
            if matches:
                linked = await store.traverse(matches[0].person_id, hops=1)
                places = [a.entity_id for a in linked.associates if a.kind == "location"]
            people.append(PersonSuggestion(typed=typed, matches=matches, places=places))
        vehicles: list[VehicleMatch] = []
        for mark in request.vehicles:
            vehicles.extend(await _vehicles(store, VehicleQuery(registration=mark, limit=5)))
        return PrefillResponse(people=people, vehicles=vehicles)

    return router


async def _vehicles(store: SqlStore, query: VehicleQuery) -> list[VehicleMatch]:
    def work() -> list[VehicleMatch]:
        with store.engine.connect() as conn:
            return search_vehicles(conn, query)

    return await asyncio.to_thread(work)
