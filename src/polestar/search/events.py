"""Event search: by kind, by time window, and by area (the places linked to the event).

An event's time is its kind's own field (``search_event_keys.at``: a crime's
``committed_from`` or ``reported_at``, an incident's ``opened_at``...). An event
is in an area when a location in that area is linked to it (a ``scene`` link,
or any other). Every criterion is a filter, so every result is ``strong``;
the explanation says which link put the event in the area. Newest first.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, or_, select

from polestar.model.codes import EntityType
from polestar.model.timeutil import UtcDateTime
from polestar.search.locations import AreaQuery, area_filter
from polestar.search.place_tables import event_keys, location_keys
from polestar.search.query import Band
from polestar.search.scoring import FieldMatch
from polestar.store.sqlbase import utc_or_none
from polestar.store.tables import entities, links

MAX_AREA_PLACES = 5000
"""Most locations one area may cover before the search asks for a smaller one."""


class EventQuery(BaseModel):
    """An event search: kinds, a time window and an area, any of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: tuple[EntityType, ...] = Field(
        default=(), max_length=10, description="Event kinds (all if none).", examples=[["crime", "incident"]]
    )
    occurred_from: UtcDateTime | None = Field(default=None, description="At or after (UTC).")
    occurred_to: UtcDateTime | None = Field(default=None, description="At or before (UTC).")
    area: AreaQuery | None = Field(default=None, description="Linked to a place in this area.")
    limit: int = Field(default=50, ge=1, le=500)

    @model_validator(mode="after")
    def _sensible(self) -> EventQuery:
        wrong = [k.value for k in self.kinds if not k.is_event]
        if wrong:
            raise ValueError(f"{', '.join(wrong)} are not event kinds")
        if not (self.kinds or self.occurred_from or self.occurred_to or (self.area and self.area.given)):
            raise ValueError("an event search needs a kind, a time window or an area")
        if self.occurred_from and self.occurred_to and self.occurred_from > self.occurred_to:
            raise ValueError("occurred_from is after occurred_to")
        return self


class EventMatch(BaseModel):
    """One event found, with why."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    kind: str
    occurred_at: UtcDateTime | None
    summary: str | None = Field(description="The event's summary or reference, as held.")
    band: Band = Band.STRONG
    places: tuple[str, ...] = Field(default=(), description="Locations in the area linked to it.")
    fields: tuple[FieldMatch, ...] = ()


class AreaTooLarge(ValueError):  # noqa: N818 - reads as the answer
    """The area covers more places than one event search may look through."""


def search_events(conn: Connection, query: EventQuery) -> list[EventMatch]:
    """Events matching every criterion of ``query``, newest first."""
    t = event_keys.c
    statement = select(t.event_id, t.kind, t.at).where(
        t.event_id.in_(select(entities.c.id).where(entities.c.merged_into.is_(None)))
    )
    if query.kinds:
        statement = statement.where(t.kind.in_([k.value for k in query.kinds]))
    if query.occurred_from is not None:
        statement = statement.where(t.at >= query.occurred_from)
    if query.occurred_to is not None:
        statement = statement.where(t.at <= query.occurred_to)
    places: dict[str, list[tuple[str, str]]] = {}
    if query.area is not None and query.area.given:
        places = _events_in_area(conn, query.area)
        if not places:
            return []
        statement = statement.where(t.event_id.in_(list(places)))
    rows = conn.execute(statement.order_by(t.at.desc(), t.event_id).limit(query.limit)).all()
    documents = _documents(conn, [r.event_id for r in rows])
    return [_match(query, row, documents.get(row.event_id, {}), places.get(row.event_id, [])) for row in rows]


def _events_in_area(conn: Connection, area: AreaQuery) -> dict[str, list[tuple[str, str]]]:
    """Event id -> [(location id, role)] for events linked to a place in ``area``."""
    found = [
        r.location_id
        for r in conn.execute(
            area_filter(
                select(location_keys.c.location_id, location_keys.c.latitude, location_keys.c.longitude), area
            ).limit(MAX_AREA_PLACES + 1)
        )
        if area.near is None
        or (r.latitude is not None and area.near.distance_m(r.latitude, r.longitude) <= area.near.radius_m)
    ]
    if len(found) > MAX_AREA_PLACES:
        raise AreaTooLarge(f"the area holds more than {MAX_AREA_PLACES} places; give a smaller one")
    events: dict[str, list[tuple[str, str]]] = {}
    for start in range(0, len(found), 900):
        chunk = found[start : start + 900]
        rows = conn.execute(
            select(links.c.from_id, links.c.from_kind, links.c.to_id, links.c.to_kind, links.c.role).where(
                or_(links.c.from_id.in_(chunk), links.c.to_id.in_(chunk))
            )
        ).all()
        for row in rows:
            if row.from_kind == "location" and row.from_id in chunk:
                events.setdefault(row.to_id, []).append((row.from_id, row.role))
            if row.to_kind == "location" and row.to_id in chunk:
                events.setdefault(row.from_id, []).append((row.to_id, row.role))
    return events


def _documents(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = conn.execute(select(entities.c.id, entities.c.document).where(entities.c.id.in_(ids))).all()
    return {r.id: r.document for r in rows}


def _match(query: EventQuery, row: Any, document: dict[str, Any], where: list[tuple[str, str]]) -> EventMatch:
    at = utc_or_none(row.at)
    fields: list[FieldMatch] = []
    if query.kinds:
        fields.append(FieldMatch("kind", "same", 0.0, f"a {row.kind}"))
    if query.occurred_from or query.occurred_to:
        fields.append(FieldMatch("time", "within", 0.0, f"at {at.isoformat() if at else 'an unknown time'}"))
    for location_id, role in where:
        fields.append(FieldMatch("area", "within", 0.0, f"{role} {location_id} is in the area"))
    summary = document.get("summary") or document.get("reference") or document.get("crime_reference")
    return EventMatch(
        event_id=row.event_id,
        kind=row.kind,
        occurred_at=at,
        summary=None if summary is None else str(summary),
        places=tuple(dict.fromkeys(location_id for location_id, _ in where)),
        fields=tuple(fields),
    )
