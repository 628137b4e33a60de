"""Building canonical events for the store tests: people, vehicles, crimes and links, in envelopes."""

from __future__ import annotations

import asyncio
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from polestar.model import Crime, Link, Person, Vehicle, to_envelope
from polestar.model.common import Entity
from polestar.model.envelope import Envelope
from polestar.store import SqlStore
from polestar.store.tables import metadata

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def provenance(system: str = "custody", *, at: int = 0, observed: int | None = None, ref: str | None = None):
    """Provenance recorded ``at`` minutes after T0 (observed then too, unless told otherwise)."""
    recorded = T0 + timedelta(minutes=at)
    seen = recorded if observed is None else T0 + timedelta(minutes=observed)
    return {
        "organisation": "01",
        "system": system,
        "reference": ref,
        "observed_at": seen,
        "recorded_at": recorded,
    }


def person(
    pid: str, *, version: int = 1, given: str = "Sarah", family: str = "Morgan", **more: Any
) -> Person:
    system = more.pop("system", "custody")
    at = more.pop("at", 0)
    observed = more.pop("observed", None)
    return Person(
        id=pid,
        version=version,
        name={"given": given, "family": family},
        provenance=provenance(system, at=at, observed=observed),
        **more,
    )


def vehicle(vid: str, mark: str = "AB12 CDE", **more: Any) -> Vehicle:
    return Vehicle(
        id=vid, registration={"mark": mark}, provenance=provenance(more.pop("system", "pnc")), **more
    )


def crime(cid: str, **more: Any) -> Crime:
    return Crime(id=cid, provenance=provenance("crime-recording"), reported_at=T0, summary="burglary", **more)


def link(
    lid: str, role: str, start: Entity | tuple[str, str], end: Entity | tuple[str, str], **more: Any
) -> Link:
    def ref(x: Entity | tuple[str, str]) -> dict[str, str]:
        return {"type": x[0], "id": x[1]} if isinstance(x, tuple) else {"type": x.schema_name, "id": x.id}

    return Link(
        id=lid,
        role=role,
        from_ref=ref(start),
        to_ref=ref(end),
        provenance=provenance(more.pop("system", "cad")),
        **more,
    )


_TYPES = {
    "person": "person.updated",
    "vehicle": "vehicle.updated",
    "crime": "crime.report.drafted",
    "link": "link.created",
}


def event(entity: Entity, **attributes: Any) -> Envelope:
    attributes.setdefault("actor", "system:custody")
    return to_envelope(entity, type=_TYPES[entity.schema_name], source="/connectors/test", **attributes)


async def put(store, *entities: Entity, **attributes: Any) -> None:
    for entity in entities:
        await store.apply(event(entity, **attributes))


def count_rows(store: SqlStore) -> dict[str, int]:
    """Rows in every store table."""
    with store.transaction(write=False) as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in metadata.tables.items()
        }


def cluster_store_url(request: Any) -> str:
    """The asyncpg URL of this test's own PostgreSQL schema (for a hub's store in the cluster profile)."""
    schema = request.getfixturevalue("postgres_schema")
    base = request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}?options=-csearch_path%3D{schema}"


async def run_until_killed(child: Path, args: list[str]) -> None:
    """Run a crash child that SIGKILLs itself right after its commit; check it got that far."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(child),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert out.decode().split() == ["committed"]


def pending_intents(store: SqlStore) -> list[str]:
    """The keys of audit intents the store has promised and the log has not yet appended."""
    from polestar.audit.intents import intents_table  # noqa: PLC0415 - only the intent tests need it

    with store.engine.connect() as conn:
        return [key for (key,) in conn.execute(select(intents_table().c.intent_key))]
