"""Canonical person events for the resolution tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from polestar.model import Person, to_envelope
from polestar.sims.synthetic import make_pnc_id
from polestar.store import SqlStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PNC_A = make_pnc_id(2004, 123456)
PNC_B = make_pnc_id(2011, 654321)


def person(pid: str, given: str, family: str, *, system: str = "custody", **more: Any) -> Person:
    return Person(
        id=pid,
        version=1,
        name={"given": given, "family": family},
        provenance={"organisation": "01", "system": system, "observed_at": T0, "recorded_at": T0},
        **more,
    )


def pnc(value: str) -> list[dict[str, str]]:
    return [{"type": "PNC", "value": value}]


async def arrive(resolver, *people: Person) -> None:
    store: SqlStore = resolver.store
    for p in people:
        envelope = to_envelope(p, type="person.updated", source="/connectors/test", actor="system:test")
        await store.apply(envelope)
        await resolver.index.refresh([p.id])
