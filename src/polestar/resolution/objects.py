"""Entity resolution for vehicles and locations: the same car or place arriving from two systems.

* **Vehicles**: the same VIN merges (a VIN is stamped on the car, check-validated
  by the model). The same registration mark with no VIN to tell them apart goes
  to review: marks move between cars (cherished plates), so a mark alone never
  merges. Different VINs are different vehicles, whatever the mark.
* **Locations**: the same UPRN merges. Without one, the same postcode and the
  same address words merge, and a close address at the same postcode goes to
  review (``ResolutionPolicy.address_review_at``).

A pair a person unmerged is never merged again automatically (it goes to
review), as for people. Merges are the store's: recorded and reversible.
"""

from __future__ import annotations

from functools import partial

from rapidfuzz import fuzz, process

from polestar.resolution.batch import current_batch
from polestar.resolution.folding import fold
from polestar.resolution.records import Outcome, Resolution
from polestar.resolution.resolver import Resolver
from polestar.search.place_index import PlaceIndex, location_keys_of, object_identifiers
from polestar.store import StoredEntity


class ObjectResolver:
    """Resolves vehicles and locations over the store, its place index and the person resolver's queue.

    Args:
        people: the person ``Resolver`` (its store, policy and review queue are shared).
        places: the place index on the same store.
    """

    def __init__(self, people: Resolver, places: PlaceIndex) -> None:
        self.people = people
        self.store = people.store
        self.places = places

    async def resolve(self, record_id: str, *, refreshed: bool = False) -> Resolution:
        """Merge, queue for review, or keep ``record_id`` (a vehicle or location) as new.

        Its place keys are refreshed first, whatever the outcome, unless the caller has just
        ``refreshed`` them.
        """
        if not refreshed:
            await self.places.refresh([record_id])
        read_at = self.people.merges_so_far()
        entity = await self.people.current(record_id)
        if entity is None or entity.kind not in {"vehicle", "location"}:
            return Resolution(record_id, Outcome.NEW, reason="not a vehicle or location the store holds")
        if entity.id != record_id:
            return Resolution(record_id, Outcome.MERGED, entity.id, reason="already merged")
        return await self.people.unless_folded(entity, await self._decide_for(entity), read_at)

    async def _decide_for(self, entity: StoredEntity) -> Resolution:
        own = {entity.id, *entity.merged_ids}
        mine = object_identifiers(entity.kind, entity.document)
        strong = "VIN" if entity.kind == "vehicle" else "UPRN"
        if strong in mine:
            for holder in await self._others(strong, mine[strong], own):
                return await self._decide(entity, holder, f"same {strong}", certain=True)
        if entity.kind == "vehicle" and "MARK" in mine:
            for holder in await self._others("MARK", mine["MARK"], own):
                theirs = object_identifiers(holder.kind, holder.document)
                if "VIN" in mine and "VIN" in theirs:
                    continue  # both VINs known and (not being the same) different: different cars
                return await self._decide(
                    entity, holder, "same registration mark, no VIN to compare", certain=False
                )
        if entity.kind == "location":
            return await self._by_address(entity, own, mine)
        return Resolution(entity.id, Outcome.NEW, reason=f"no other {entity.kind} shares its identifiers")

    async def _others(self, kind: str, value: str, own: set[str]) -> list[StoredEntity]:
        found: dict[str, StoredEntity] = {}
        for holder_id in sorted(set(await self.places.holders(kind, value)) - own):
            other = await self.people.current(holder_id)
            if other is not None and other.id not in own:
                found.setdefault(other.id, other)
        # Eldest first: records of one car arriving together then all fold onto the one held.
        return sorted(found.values(), key=lambda o: (o.created_at, o.id))

    async def _at_postcode(self, postcode: str) -> list[tuple[str, str]]:
        batch = current_batch.get()
        if batch is None:
            return await self.places.at_postcode(postcode)
        if postcode not in batch.postcodes:
            batch.postcodes[postcode] = await self.places.at_postcode(postcode)
        return batch.postcodes[postcode]

    async def _by_address(self, entity: StoredEntity, own: set[str], mine: dict[str, str]) -> Resolution:
        keys = location_keys_of(entity.id, entity.document)
        if keys.postcode is None or not keys.text:
            return Resolution(entity.id, Outcome.NEW, reason="no postcode and address to compare")
        others = [(i, text) for i, text in await self._at_postcode(keys.postcode) if i not in own]
        # The first most alike, compared in C: a postcode may hold hundreds of addresses.
        found = process.extractOne(
            keys.text,
            [text for _, text in others],
            scorer=fuzz.token_set_ratio,
            score_cutoff=self.people.policy.address_review_at,
        )
        if found is None:
            return Resolution(entity.id, Outcome.NEW, reason="no address like it at its postcode")
        best = (float(found[1]), others[found[2]][0])
        other = await self.people.current(best[1])
        if other is None or other.id in own:
            return Resolution(entity.id, Outcome.NEW, reason="no address like it at its postcode")
        theirs = object_identifiers(other.kind, other.document)
        if "UPRN" in mine and "UPRN" in theirs:
            return Resolution(entity.id, Outcome.NEW, reason="a different UPRN")
        exact = keys.text == location_keys_of(other.id, other.document).text
        why = "same postcode and address" if exact else f"same postcode, address {best[0]:.0f}% alike"
        return await self._decide(entity, other, why, certain=exact, score=best[0])

    async def _groups_agree(self, record: dict[str, str], mine: StoredEntity, theirs: StoredEntity) -> bool:
        """True if the two groups may be one: no VIN or UPRN differs, no pair was unmerged by a person.

        ``record`` is the identifiers of the record being resolved (its group's survivor
        may be another record by now). Asked before every merge (``folding.fold``).
        """
        held = object_identifiers(theirs.kind, theirs.document)
        if not _same_where_both_known(record, held):
            return False
        if not _same_where_both_known(object_identifiers(mine.kind, mine.document), held):
            return False
        for member in (mine.id, *mine.merged_ids):
            if await self.people.unmerged_before(member, theirs):
                return False
        return True

    async def _decide(
        self,
        entity: StoredEntity,
        other: StoredEntity,
        why: str,
        *,
        certain: bool,
        score: float | None = None,
    ) -> Resolution:
        fields: tuple[dict[str, object], ...] = (
            {"field": "identifier" if score is None else "address", "level": why},
        )
        if certain and not await self.people.unmerged_before(entity.id, other):
            reason = f"entity resolution: {why}"
            mine = object_identifiers(entity.kind, entity.document)
            self.people.merging()
            try:
                folded = await fold(
                    self.store,
                    entity.id,
                    other.id,
                    actor=self.people.policy.actor,
                    reason=reason,
                    agrees=partial(self._groups_agree, mine),
                )
            finally:
                self.people.merging()
            if folded is not None:
                return Resolution(
                    entity.id,
                    Outcome.MERGED,
                    folded.survivor_id,
                    score,
                    reason,
                    merge_id=folded.merge_id,
                    fields=fields,
                )
            reason = f"{why}, but merged meanwhile with a record that differs"
        else:
            reason = why if not certain else f"{why}, but unmerged by a person before"
        return await self.people.queue(
            entity.id, other.id, score if score is not None else float("inf"), fields, reason
        )


def _same_where_both_known(mine: dict[str, str], theirs: dict[str, str]) -> bool:
    # A VIN or UPRN that differs is a different car or place, whatever else agrees.
    return all(mine[k] == theirs[k] for k in ("VIN", "UPRN") if k in mine and k in theirs)
