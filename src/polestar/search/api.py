"""The search API: people, vehicles, locations, events, links, and pre-fill for a new crime report.

``create_search_router(services, consultations=...)`` gives the routes; the hub
includes it with its running store. Results are ranked, banded and explained;
only 'possible' and above are shown unless the query asks for more.

Every search reads personal data, so each is a *consultation*: the router
tells ``consultations`` who asked, why (``X-Polestar-Purpose``), what was asked
and which records were shown. The hub's implementation writes it to the audit
log and refuses (400) a search without a purpose where policy requires one;
search itself knows no audit.

Who asks and what they may see is the ``viewer`` seam: given a route's action
(``record.search``, ``record.prefill``) it is a dependency that authorises the
caller and returns a ``Viewer`` (``polestar.search.screening``). The hub's
(``polestar.security.viewer.policy_viewer``) decides by policy, so a record
marked above the caller's clearance, or with a caveat they lack, is left out of
every result and documents are redacted. Screening comes before the limit: a
search reads on past hidden records until it has ``limit`` the caller may see,
and a hidden person never moves the "how far below the best" cut. The default,
``header_viewer``, names the caller from the ``X-Polestar-Actor`` header and
sees everything, for a router used without a security component.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query
from pydantic import BaseModel
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from polestar.search.errors import ConsultationRefused, ConsultationUnrecorded, SearchUnavailable
from polestar.search.events import AreaTooLarge, EventMatch, EventQuery, search_events
from polestar.search.index import Screen, SearchIndex
from polestar.search.links import LinkedRecords, linked_records
from polestar.search.locations import LocationMatch, LocationQuery, search_locations
from polestar.search.place_index import PlaceIndex
from polestar.search.prefill import PrefillRequest, PrefillResponse, prefill
from polestar.search.query import PersonMatch, PersonQuery
from polestar.search.screening import (
    OpenViewer,
    Viewer,
    screen_links,
    screen_prefill,
    until_shown,
    visible_ids,
)
from polestar.search.vehicles import VehicleMatch, VehicleQuery, search_vehicles
from polestar.store import MAX_HOPS, SqlStore

ACTOR_HEADER = "X-Polestar-Actor"
PURPOSE_HEADER = "X-Polestar-Purpose"
SERVICE = "polestar-search"

Actor = Annotated[
    str,
    Header(
        alias=ACTOR_HEADER,
        min_length=1,
        max_length=256,
        description="Who is searching, e.g. user:pc1234; recorded with the consultation.",
        examples=["user:pc1234"],
    ),
]
Purpose = Annotated[
    str | None,
    Header(
        alias=PURPOSE_HEADER,
        max_length=500,
        description="Why you are searching (recorded with the consultation); required where policy says so.",
        examples=["crime report 5201234/26"],
    ),
]
RecordId = Annotated[str, Path(min_length=1, max_length=128, description="A store record id.")]


@dataclass(frozen=True, slots=True)
class SearchServices:
    """What the routes search: the running store, its person index and its place index."""

    store: SqlStore
    index: SearchIndex
    places: PlaceIndex


@dataclass(frozen=True, slots=True)
class Consultation:
    """One search as the audit log needs it: who, why, what was asked, which records were shown."""

    actor: str
    purpose: str | None
    query: str
    kind: str
    record_ids: Sequence[str] = ()
    details: dict[str, Any] = field(default_factory=dict)


class ConsultationLog(Protocol):
    """Where consultations go (the hub: the audit log)."""

    async def before(self, consultation: Consultation) -> None:
        """Called before searching; raise ``ConsultationRefused`` to refuse (recording the refusal)."""
        ...

    async def after(self, consultation: Consultation) -> None:
        """Called with the records found, before they are returned; raise to withhold them."""
        ...


class NoConsultationLog:
    """Records nothing (audit switched off, or a library user without one)."""

    async def before(self, consultation: Consultation) -> None:
        """Allow every search."""

    async def after(self, consultation: Consultation) -> None:
        """Record nothing."""


ServicesSource = Callable[[], SearchServices]
"""Gives the running services, or raises ``SearchUnavailable`` (answered 503)."""

ViewerSource = Callable[[str], Callable[..., Awaitable[Viewer]]]
"""Given a route's action, a FastAPI dependency authorising it and giving the request's ``Viewer``."""


def header_viewer(action: str) -> Callable[..., Awaitable[Viewer]]:
    """Names the caller from ``X-Polestar-Actor`` and shows everything: for a router without security."""
    del action  # nothing to authorise without a security component

    async def viewer(actor: Actor) -> Viewer:
        return OpenViewer(actor)

    return viewer


def create_search_router(
    services: SearchServices | ServicesSource,
    *,
    consultations: ConsultationLog | None = None,
    viewer: ViewerSource = header_viewer,
) -> APIRouter:
    """The ``/search`` and ``/prefill`` routes over ``services`` (or a callable giving them).

    ``viewer`` authorises each route and screens its results (default: ``header_viewer``).
    """
    Who = Annotated[Viewer, Depends(viewer("record.search"))]  # noqa: N806 - a type alias binding the dependency
    Filler = Annotated[Viewer, Depends(viewer("record.prefill"))]  # noqa: N806 - likewise
    source: ServicesSource = services if callable(services) else lambda: services
    log = consultations or NoConsultationLog()
    router = APIRouter(tags=["search"])

    async def consulted(
        who: Viewer,
        purpose: str | None,
        kind: str,
        query: BaseModel | dict[str, Any],
        *,
        run: Callable[[SearchServices], Awaitable[Any]],
        ids: Callable[[Any], list[str]],
        screen: Callable[[Viewer, SearchServices, Any], Awaitable[Any]],
    ) -> Any:
        actor = who.actor
        running = _running(source)
        asked = (
            query.model_dump(mode="json", exclude_defaults=True) if isinstance(query, BaseModel) else query
        )
        text = json.dumps({"search": kind, **asked}, sort_keys=True, default=str)[:10_000]
        consultation = Consultation(actor=actor, purpose=purpose, query=text, kind=kind)
        try:
            await log.before(consultation)
            result = await screen(who, running, await run(running))
            shown = ids(result)
            await log.after(
                Consultation(actor, purpose, text, kind, shown, {"search": kind, "results": len(shown)})
            )
        except ConsultationRefused as exc:
            raise HTTPException(HTTPStatus.BAD_REQUEST, str(exc)) from None
        except ConsultationUnrecorded as exc:
            raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None
        except OperationalError as exc:  # the database went away mid-search: say so, not 500
            raise HTTPException(
                HTTPStatus.SERVICE_UNAVAILABLE, f"the store could not answer: {str(exc.orig).strip()[:200]}"
            ) from None
        except (AreaTooLarge, SearchUnavailable) as exc:
            status = (
                HTTPStatus.UNPROCESSABLE_ENTITY
                if isinstance(exc, AreaTooLarge)
                else HTTPStatus.SERVICE_UNAVAILABLE
            )
            raise HTTPException(status, str(exc)) from None
        return result

    @router.post("/search/people", summary="Search people")
    async def search_people(query: PersonQuery, who: Who, purpose: Purpose = None) -> list[PersonMatch]:
        """People by name (phonetic, fuzzy, nicknames, aliases, swapped), date of birth or age, gender."""
        found: list[PersonMatch] = await consulted(
            who,
            purpose,
            "people",
            query,
            run=lambda s: s.index.search(query, visible=_visible_to(who, s)),
            ids=lambda r: [m.person_id for m in r],
            screen=_screened_already,
        )
        return found

    @router.post("/search/vehicles", summary="Search vehicles")
    async def search_vehicle(query: VehicleQuery, who: Who, purpose: Purpose = None) -> list[VehicleMatch]:
        """Vehicles by full or partial registration (``?`` one character, ``*`` any), make, model, colour."""
        found: list[VehicleMatch] = await consulted(
            who,
            purpose,
            "vehicles",
            query,
            run=lambda s: _until_shown(who, s, query, search_vehicles, _keep(_vehicle_id)),
            ids=lambda r: [v.vehicle_id for v in r],
            screen=_screened_already,
        )
        return found

    @router.post("/search/locations", summary="Search locations")
    async def search_location(query: LocationQuery, who: Who, purpose: Purpose = None) -> list[LocationMatch]:
        """Places by address text, full or partial postcode, a radius around a point, or an area."""
        found: list[LocationMatch] = await consulted(
            who,
            purpose,
            "locations",
            query,
            run=lambda s: _until_shown(who, s, query, search_locations, _keep(_place_id)),
            ids=lambda r: [m.location_id for m in r],
            screen=_screened_already,
        )
        return found

    @router.post("/search/events", summary="Search events")
    async def search_event(query: EventQuery, who: Who, purpose: Purpose = None) -> list[EventMatch]:
        """Events by kind, time window and area (the places linked to them), newest first."""
        found: list[EventMatch] = await consulted(
            who,
            purpose,
            "events",
            query,
            run=lambda s: _until_shown(who, s, query, search_events, _screen_events),
            ids=lambda r: [m.event_id for m in r] + [p for m in r for p in m.places],
            screen=_screened_already,
        )
        return found

    @router.get(
        "/search/links/{entity_id}",
        summary="Linked records",
        responses={HTTPStatus.NOT_FOUND: {"description": "No such record"}},
    )
    async def links(
        entity_id: RecordId,
        *,
        who: Who,
        purpose: Purpose = None,
        hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="Links away, at most.")] = 1,
        kind: Annotated[
            list[str] | None, Query(max_length=10, description="Only records of these kinds, e.g. person.")
        ] = None,
        role: Annotated[
            list[str] | None, Query(max_length=10, description="Only links of these roles.")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 200,
    ) -> LinkedRecords:
        """Associates of a person within ``hops`` links, or everyone linked to an address or vehicle."""
        asked = {"id": entity_id, "hops": hops, "kind": kind, "role": role}
        found: LinkedRecords | None = await consulted(
            who,
            purpose,
            "links",
            asked,
            run=lambda s: linked_records(s.store, entity_id, hops=hops, kinds=kind, roles=role, limit=limit),
            ids=lambda r: [] if r is None else [r.root, *(x.entity_id for x in r.linked)],
            screen=lambda v, s, r: _none() if r is None else screen_links(v, s.store, r),
        )
        if found is None:
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no record {entity_id}")
        return found

    @router.post("/prefill", summary="Pre-fill a new crime report")
    async def prefill_report(
        request: PrefillRequest, who: Filler, purpose: Purpose = None
    ) -> PrefillResponse:
        """Known people (with their places and vehicles), vehicles and places for what was typed."""
        found: PrefillResponse = await consulted(
            who,
            purpose,
            "prefill",
            request,
            run=lambda s: prefill(s.store, s.index, request, visible=_visible_to(who, s)),
            ids=lambda r: r.record_ids(),
            screen=lambda v, s, r: screen_prefill(v, s.store, r),
        )
        return found

    return router


Q = TypeVar("Q", VehicleQuery, LocationQuery, EventQuery)
Screening = Callable[[Viewer, SearchServices, list[Any]], Awaitable[list[Any]]]


def _until_shown(
    who: Viewer,
    services: SearchServices,
    query: Q,
    search: Callable[[Connection, Q], list[Any]],
    screen: Screening,
) -> Awaitable[list[Any]]:
    async def fetch(limit: int) -> list[Any]:
        asked = query.model_copy(update={"limit": limit})
        found: list[Any] = await _blocking(services.store, lambda conn: search(conn, asked))
        return found

    async def screened(found: list[Any]) -> list[Any]:
        return await screen(who, services, found)

    return until_shown(query.limit, fetch, screened)


def _visible_to(who: Viewer, services: SearchServices) -> Screen:
    async def visible(ids: Collection[str]) -> set[str]:
        return await visible_ids(who, services.store, ids)

    return visible


async def _screened_already(viewer: Viewer, services: SearchServices, found: Any) -> Any:
    del viewer, services  # the search screened as it read
    return found


def _vehicle_id(match: VehicleMatch) -> str:
    return match.vehicle_id


def _place_id(match: LocationMatch) -> str:
    return match.location_id


def _keep(id_of: Callable[[Any], str]) -> Screening:
    """A screen leaving out the matches whose record the viewer may not see."""

    async def screen(viewer: Viewer, services: SearchServices, found: list[Any]) -> list[Any]:
        shown = await visible_ids(viewer, services.store, [id_of(m) for m in found])
        return [m for m in found if id_of(m) in shown]

    return screen


async def _screen_events(
    viewer: Viewer, services: SearchServices, found: list[EventMatch]
) -> list[EventMatch]:
    # An event found through the places around it is shown only if one of those places may be.
    ids = {m.event_id for m in found} | {p for m in found for p in m.places}
    shown = await visible_ids(viewer, services.store, ids)
    kept = []
    for match in found:
        places = tuple(p for p in match.places if p in shown)
        if match.event_id in shown and (places or not match.places):
            kept.append(match.model_copy(update={"places": places}))
    return kept


async def _none() -> None:
    return None


def _running(source: ServicesSource) -> SearchServices:
    try:
        return source()
    except SearchUnavailable as exc:
        raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, str(exc)) from None


async def _blocking(store: SqlStore, work: Callable[[Any], Any]) -> Any:
    def in_thread() -> Any:
        with store.engine.connect() as conn:
            return work(conn)

    return await asyncio.to_thread(in_thread)
