"""Canonical person events for the search tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from polestar.model import Person, to_envelope
from polestar.store import SqlStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def person(pid: str, given: str, family: str, **more: Any) -> Person:
    return Person(
        id=pid,
        version=1,
        name={"given": given, "family": family},
        provenance={"organisation": "01", "system": "custody", "observed_at": T0, "recorded_at": T0},
        **more,
    )


async def put(store: SqlStore, *people: Person) -> None:
    for p in people:
        await store.apply(
            to_envelope(p, type="person.updated", source="/connectors/test", actor="system:custody")
        )
