"""Records of one car resolved at the same time end on one survivor, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from polestar.model import Vehicle, to_envelope
from polestar.resolution import Outcome, Resolver
from polestar.resolution.objects import ObjectResolver
from polestar.search.place_index import PlaceIndex

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
VIN = "WF0AXXGCDA1A12345"


def vehicle(vid: str, system: str) -> Vehicle:
    provenance = {"organisation": "01", "system": system, "observed_at": T0, "recorded_at": T0}
    return Vehicle(id=vid, vin=VIN, provenance=provenance)


async def test_records_of_one_vin_arriving_together_all_fold_onto_the_one_held(resolver: Resolver):
    places = PlaceIndex(resolver.store.engine)
    await places.start()
    objects = ObjectResolver(resolver, places)
    for v in (vehicle("v9", "pnc"), vehicle("v1", "custody"), vehicle("v2", "cad"), vehicle("v3", "rms")):
        envelope = to_envelope(v, type="vehicle.updated", source="/connectors/t", actor="system:t")
        await resolver.store.apply(envelope)
        if v.id == "v9":  # held before the others arrive
            assert (await objects.resolve("v9")).outcome is Outcome.NEW
    await places.refresh(["v1", "v2", "v3"])

    async def one(ids: list[str]) -> list[Outcome]:
        async with resolver.batched(ids):
            decided = await asyncio.gather(*(objects.resolve(i, refreshed=True) for i in ids))
        return [d.outcome for d in decided]

    outcomes = await asyncio.gather(one(["v1", "v2"]), one(["v3"]))
    assert {o for batch in outcomes for o in batch} == {Outcome.MERGED}
    merges = {m for i in ("v1", "v2", "v3") for m in await resolver.store.merges(i) if m.active}
    # The eldest (held) survives, and each arriving record folded straight onto it.
    assert sorted((m.survivor_id, m.merged_id) for m in merges) == [("v9", "v1"), ("v9", "v2"), ("v9", "v3")]
