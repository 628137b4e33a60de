"""``PlaceIndex``: keeps the location, event and object-identifier keys in step with the store.

::

    places = PlaceIndex(store.engine)
    await places.start()                     # creates the tables if missing
    await places.refresh(["loc-1", "crime-7"])   # after applies (ids of any kind; others are ignored)
    await places.rebuild()                   # from store_entities

Locations, events and vehicles are not a person's data in the erasure sense
(the store keeps them when a person is erased; only the links go), so this
index is not an erasure hook. Its rows are derived and rebuilt at will.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete, select

from polestar.model.codes import EntityType
from polestar.search.place_tables import event_keys, location_keys, location_tokens, metadata, object_keys
from polestar.search.vehicle_keys import metadata as vehicle_metadata
from polestar.search.vehicle_keys import put_vehicle_keys, vehicle_keys, vehicle_row
from polestar.store.tables import entities

T = TypeVar("T")
BATCH = 2000

EVENT_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    "call": ("received_at",),
    "incident": ("opened_at",),
    "crime": ("committed_from", "reported_at"),
    "arrest": ("arrested_at",),
    "custody-episode": ("arrived_at",),
    "stop-search": ("searched_at",),
    "use-of-force": ("occurred_at",),
    "intelligence-report": ("submitted_at",),
    "witness-statement": ("statement_made_at",),
}
"""For each event kind, the fields saying when it happened, first present wins."""
EVENT_KINDS = frozenset(t.value for t in EntityType if t.is_event)
INDEXED_KINDS = EVENT_KINDS | {"location", "vehicle"}

_WORD = re.compile(r"[A-Z0-9]+")
_OUTWARD = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})?$")


def words(text: str) -> list[str]:
    """The normalised words of ``text``: upper case letters and digits, apostrophes dropped."""
    return _WORD.findall(text.upper().replace("'", ""))


def postcode_parts(postcode: str | None) -> tuple[str | None, str | None, str | None]:
    """(postcode, outward, sector) of a canonical postcode (``SW1A 2AA``): all None if absent."""
    if not postcode:
        return None, None, None
    outward, _, inward = postcode.partition(" ")
    return postcode, outward, f"{outward} {inward[:1]}" if inward else None


@dataclass(frozen=True, slots=True)
class LocationKeys:
    """What the index holds for one location."""

    location_id: str
    postcode: str | None
    outward: str | None
    sector: str | None
    text: str
    latitude: float | None
    longitude: float | None
    force: str | None
    beat: str | None
    ward: str | None

    def tokens(self) -> set[str]:
        """The words of its text worth looking up (two characters or more, or a house number)."""
        return {w[:64] for w in self.text.split() if len(w) > 1 or w.isdigit()}


def location_keys_of(location_id: str, document: dict[str, Any]) -> LocationKeys:
    """The keys of one location document (as the store holds it)."""
    address = document.get("address") or {}
    point = document.get("coordinates") or {}
    area = document.get("area") or {}
    parts = [
        document.get("name") or "",
        *(address.get("lines") or ()),
        address.get("town") or "",
        document.get("description") or "",
    ]
    postcode, outward, sector = postcode_parts(address.get("postcode"))
    return LocationKeys(
        location_id=location_id,
        postcode=postcode,
        outward=outward,
        sector=sector,
        text=" ".join(words(" ".join(parts))),
        latitude=point.get("latitude"),
        longitude=point.get("longitude"),
        force=area.get("force"),
        beat=area.get("beat"),
        ward=area.get("ward"),
    )


def event_time(kind: str, document: dict[str, Any]) -> datetime | None:
    """When an event of ``kind`` happened, from its document (None if it does not say)."""
    for name in EVENT_TIME_FIELDS.get(kind, ()):
        value = document.get(name)
        if isinstance(value, str) and value:
            return datetime.fromisoformat(value)
    return None


def object_identifiers(kind: str, document: dict[str, Any]) -> dict[str, str]:
    """The identifiers of a vehicle (VIN, registration mark) or location (UPRN) document."""
    if kind == "vehicle":
        found = {"VIN": str(document["vin"])} if document.get("vin") else {}
        mark = (document.get("registration") or {}).get("mark")
        return found | ({"MARK": str(mark)} if mark else {})
    if kind == "location" and (document.get("address") or {}).get("uprn"):
        return {"UPRN": str(document["address"]["uprn"])}
    return {}


class PlaceIndex:
    """Location, event and object keys in the store's database (see ``place_tables``).

    Args:
        engine: the store's engine (``store.engine``).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _run(self, work: Callable[[Connection], T], *, write: bool = False) -> T:
        def in_thread() -> T:
            with self.engine.connect() as conn:
                if write and conn.dialect.name == "sqlite":
                    # The store's SQLite driver autocommits each statement unless told: one
                    # transaction (one write lock, one sync) for the delete and the inserts.
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
                return result

        return await asyncio.to_thread(in_thread)

    async def start(self) -> None:
        """Create the tables if they are missing."""
        await asyncio.to_thread(metadata.create_all, self.engine)
        await asyncio.to_thread(vehicle_metadata.create_all, self.engine)

    async def refresh(self, record_ids: Iterable[str]) -> int:
        """Re-read these records (any kind; only locations, events and vehicles are kept); rows written."""
        ids = sorted(set(record_ids))
        if not ids:
            return 0
        return await self._run(lambda conn: self.refresh_blocking(conn, ids), write=True)

    async def rebuild(self) -> int:
        """Recreate every key from the store; rows written."""

        def work(conn: Connection) -> int:
            for table in (location_tokens, location_keys, event_keys, object_keys, vehicle_keys):
                conn.execute(delete(table))
            ids = list(
                conn.execute(select(entities.c.id).where(entities.c.kind.in_(INDEXED_KINDS))).scalars()
            )
            written = 0
            for start in range(0, len(ids), BATCH):
                written += self.refresh_blocking(conn, ids[start : start + BATCH])
            return written

        return await self._run(work, write=True)

    def refresh_blocking(self, conn: Connection, ids: Sequence[str]) -> int:
        """``refresh`` in the caller's transaction."""
        chunk = list(ids)
        for table, column in (
            (location_tokens, location_tokens.c.location_id),
            (location_keys, location_keys.c.location_id),
            (event_keys, event_keys.c.event_id),
            (object_keys, object_keys.c.entity_id),
        ):
            conn.execute(delete(table).where(column.in_(chunk)))
        rows = conn.execute(
            select(entities.c.id, entities.c.kind, entities.c.document).where(
                entities.c.id.in_(chunk), entities.c.kind.in_(INDEXED_KINDS)
            )
        ).all()
        places: list[dict[str, Any]] = []
        tokens: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        objects: list[dict[str, Any]] = []
        vehicles: list[dict[str, Any]] = []
        for row in rows:
            if row.kind == "location":
                keys = location_keys_of(row.id, row.document)
                places.append(_location_row(keys))
                tokens.extend({"location_id": row.id, "token": t} for t in sorted(keys.tokens()))
            elif row.kind == "vehicle":
                vehicles.append(vehicle_row(row.id, row.document))
            elif row.kind in EVENT_KINDS:
                events.append(
                    {"event_id": row.id, "kind": row.kind, "at": event_time(row.kind, row.document)}
                )
            for kind, value in object_identifiers(row.kind, row.document).items():
                objects.append({"entity_id": row.id, "type": kind, "value": value})
        for table, values in (
            (location_keys, places),
            (location_tokens, tokens),
            (event_keys, events),
            (object_keys, objects),
        ):
            if values:
                conn.execute(table.insert(), values)
        # Every id loses its vehicle row first, so one that is gone or is no vehicle keeps none.
        put_vehicle_keys(conn, chunk, vehicles)
        return len(places) + len(tokens) + len(events) + len(objects) + len(vehicles)

    async def holders(self, kind: str, value: str) -> list[str]:
        """Records holding the object identifier ``kind`` (VIN, MARK, UPRN) = ``value``."""

        def work(conn: Connection) -> list[str]:
            t = object_keys.c
            return list(conn.execute(select(t.entity_id).where(t.type == kind, t.value == value)).scalars())

        return await self._run(work)

    async def at_postcode(self, postcode: str) -> list[tuple[str, str]]:
        """(location id, normalised address text) of every location at a canonical postcode."""

        def work(conn: Connection) -> list[tuple[str, str]]:
            t = location_keys.c
            rows = conn.execute(select(t.location_id, t.text).where(t.postcode == postcode).limit(1000))
            return [(r.location_id, r.text) for r in rows]

        return await self._run(work)


def _location_row(keys: LocationKeys) -> dict[str, Any]:
    return {
        "location_id": keys.location_id,
        "postcode": keys.postcode,
        "outward": keys.outward,
        "sector": keys.sector,
        "text": keys.text,
        "latitude": keys.latitude,
        "longitude": keys.longitude,
        "force": keys.force,
        "beat": keys.beat,
        "ward": keys.ward,
    }
