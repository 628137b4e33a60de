"""What a caller may see of search and store results: records above their clearance left out, fields redacted.

The search and store routes ask a ``Viewer`` (one per request; the hub's
decides by policy on the caller's clearance and caveats) which of the records
a result names it may see. A record it may not see is left out as if it did
not exist: not "forbidden", not counted. A link it may not see hides what was
reached through it, and what was reached from a hidden record is hidden too.
Documents shown are redacted field by field.

Search itself knows no security: ``OpenViewer`` sees everything, for a library
user without a security component.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from polestar.search.links import LinkedRecord, LinkedRecords
from polestar.search.prefill import PrefillResponse, Suggestion
from polestar.store import SqlStore
from polestar.store.tables import entities

T = TypeVar("T")
_CHUNK = 500
MOST_READ = 5000
"""Most results one search reads while looking for ``limit`` the caller may see."""


@dataclass(frozen=True, slots=True)
class Marked:
    """A record as a policy decides on it: its id, kind and protective marking label."""

    id: str
    kind: str
    marking: str


class Viewer(Protocol):
    """Who is asking, and what of the records found they may see."""

    @property
    def actor(self) -> str:
        """Who is asking (``user:pc1234``): recorded with the consultation."""
        ...

    async def visible(self, records: Sequence[Marked]) -> set[str]:
        """The ids of ``records`` the caller may see."""
        ...

    def redact(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """``document`` without the fields the caller may not see."""
        ...


@dataclass(frozen=True, slots=True)
class OpenViewer:
    """Sees every record and field: for a router used without a security component."""

    actor: str

    async def visible(self, records: Sequence[Marked]) -> set[str]:
        """Every id."""
        return {r.id for r in records}

    def redact(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """The document as it is."""
        return dict(document)


async def markings(store: SqlStore, ids: Collection[str]) -> dict[str, Marked]:
    """The kind and marking of each of ``ids`` held in the store (absent ids are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}

    def read() -> dict[str, Marked]:
        found: dict[str, Marked] = {}
        with store.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                query = select(entities.c.id, entities.c.kind, entities.c.marking).where(
                    entities.c.id.in_(chunk)
                )
                for row in conn.execute(query):
                    found[row.id] = Marked(row.id, row.kind, row.marking)
        return found

    return await asyncio.to_thread(read)


async def visible_ids(viewer: Viewer, store: SqlStore, ids: Collection[str]) -> set[str]:
    """Which of ``ids`` the viewer may see; an id the store does not hold is not shown (fail closed)."""
    held = await markings(store, ids)
    return await viewer.visible(list(held.values())) if held else set()


def _kept_links(linked: Sequence[LinkedRecord], root: str, shown: set[str]) -> list[LinkedRecord]:
    # Breadth first: a record is reached from one already kept, through a link the caller may see.
    reachable = {root}
    kept = []
    for record in linked:
        if record.entity_id in shown and record.via_link in shown and record.reached_from in reachable:
            kept.append(record)
            reachable.add(record.entity_id)
    return kept


async def screen_links(viewer: Viewer, store: SqlStore, found: LinkedRecords) -> LinkedRecords | None:
    """``found`` with what the viewer may not see left out; None if the record asked about is hidden."""
    ids = {found.root} | {r.entity_id for r in found.linked} | {r.via_link for r in found.linked}
    shown = await visible_ids(viewer, store, ids)
    if found.root not in shown:
        return None
    return found.model_copy(update={"linked": _kept_links(found.linked, found.root, shown)})


async def screen_prefill(viewer: Viewer, store: SqlStore, response: PrefillResponse) -> PrefillResponse:
    """Suggestions the viewer may see, their documents redacted and their links screened."""
    every = [
        *(g.suggestions for g in response.people),
        *(g.suggestions for g in response.vehicles),
        *(g.suggestions for g in response.places),
    ]
    ids: set[str] = set()
    for suggestions in every:
        for s in suggestions:
            ids.add(s.attach.id)
            ids.update(r.entity_id for r in s.linked)
            ids.update(r.via_link for r in s.linked)
    shown = await visible_ids(viewer, store, ids)

    def screened(suggestions: list[Suggestion]) -> list[Suggestion]:
        return [
            s.model_copy(
                update={
                    "document": viewer.redact(s.document),
                    "linked": _kept_links(s.linked, s.attach.id, shown),
                }
            )
            for s in suggestions
            if s.attach.id in shown
        ]

    return response.model_copy(
        update={
            "people": [
                g.model_copy(update={"suggestions": screened(g.suggestions)}) for g in response.people
            ],
            "vehicles": [
                g.model_copy(update={"suggestions": screened(g.suggestions)}) for g in response.vehicles
            ],
            "places": [
                g.model_copy(update={"suggestions": screened(g.suggestions)}) for g in response.places
            ],
        }
    )


async def until_shown(
    limit: int,
    fetch: Callable[[int], Awaitable[list[T]]],
    screen: Callable[[list[T]], Awaitable[list[T]]],
) -> list[T]:
    """Up to ``limit`` results the viewer may see, reading more while hidden ones leave it short.

    ``fetch(n)`` gives a search's first ``n`` results and ``screen`` those the
    viewer may see. It suits searches ordering results by each record alone
    (registration, score against the query, time): reading further never
    reorders what was read, so a hidden result is simply absent. At most
    ``MOST_READ`` results are read.
    """
    asked = limit
    while True:
        found = await fetch(asked)
        shown = await screen(found)
        if len(shown) >= limit or len(found) < asked or asked >= MOST_READ:
            return shown[:limit]
        asked = min(asked * 4, MOST_READ)
