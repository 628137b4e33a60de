"""Field provenance: what each source system said, and which value becomes current.

The rules (``docs/store.md`` explains why):

* A *claim* is the value one source system gave for one top-level field of an
  entity. Nested objects (a name, a date of birth) are one value: combining
  their parts from different sources could make a record no source ever said.
* A field left empty, or at its default, is no claim: "not known" never
  outvotes a value another source knows.
* Each source keeps one claim per field, its newest (by version, then observed
  time). A newer document from a source that no longer gives a field withdraws
  that source's claim.
* The current value of a field is the claim **observed most recently**
  (``observed_at``, or ``recorded_at`` where the source did not say); ties go
  to the source with the higher configured **priority**, then the higher
  version, then the later recording, then the system name (so the choice is
  always the same).
* The current marking is the least upper bound of the incoming marking and the
  markings of every winning claim: a value never shows under a lower marking
  than the source gave it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from polestar.model.common import Entity
from polestar.model.marking import Classification, ProtectiveMarking

META_FIELDS = frozenset({"id", "version", "provenance", "marking"})
"""Fields every entity has that describe the record rather than the thing: never claims."""

NOT_CHANGES = frozenset({"version", "provenance"})
"""Fields that move with every version, so a change to them alone is not an alteration of the record."""


@dataclass(frozen=True, slots=True)
class Claim:
    """One source's value for one field of one entity."""

    path: str
    system: str
    value: Any
    organisation: str
    reference: str | None
    observed_at: datetime
    recorded_at: datetime
    version: int
    marking: str
    message_id: str | None

    def newer_than(self, other: Claim) -> bool:
        """True if this claim, from the same source, supersedes ``other``."""
        return (self.version, self.observed_at) >= (other.version, other.observed_at)


def claims_of(entity: Entity, message_id: str | None) -> dict[str, Claim]:
    """The claims a document makes: every top-level field given a value other than its default."""
    full = entity.model_dump(mode="json", exclude_none=True)
    given = entity.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    source = entity.provenance
    return {
        path: Claim(
            path=path,
            system=source.system,
            value=full[path],
            organisation=source.organisation,
            reference=source.reference,
            observed_at=source.observed_at or source.recorded_at,
            recorded_at=source.recorded_at,
            version=entity.version,
            marking=entity.marking.label,
            message_id=message_id,
        )
        for path in given
        if path not in META_FIELDS
    }


@dataclass(frozen=True, slots=True)
class ClaimChanges:
    """How one document changes the stored claims: rows to write and (path, system) rows to delete."""

    upsert: tuple[Claim, ...]
    withdraw: tuple[tuple[str, str], ...]
    claims: tuple[Claim, ...]
    """Every claim after the change."""


def reconcile(
    existing: Iterable[Claim], incoming: Mapping[str, Claim], system: str, version: int
) -> ClaimChanges:
    """Fold a document's claims (from ``system`` at ``version``) into the stored ones."""
    stored = {(c.path, c.system): c for c in existing}
    upsert: list[Claim] = []
    for path, claim in incoming.items():
        before = stored.get((path, system))
        if before is None or claim.newer_than(before):
            stored[(path, system)] = claim
            if before != claim:
                upsert.append(claim)
    withdraw: list[tuple[str, str]] = []
    for (path, claimant), claim in list(stored.items()):
        if claimant == system and path not in incoming and version >= claim.version:
            withdraw.append((path, claimant))
            del stored[(path, claimant)]
    return ClaimChanges(tuple(upsert), tuple(withdraw), tuple(stored.values()))


def winners(claims: Iterable[Claim], priority: Mapping[str, int]) -> dict[str, Claim]:
    """The claim chosen for each field: newest observed, then source priority (see module docs)."""

    def rank(claim: Claim) -> tuple[datetime, int, int, datetime, str]:
        return (
            claim.observed_at,
            priority.get(claim.system, 0),
            claim.version,
            claim.recorded_at,
            claim.system,
        )

    chosen: dict[str, Claim] = {}
    for claim in claims:
        held = chosen.get(claim.path)
        if held is None or rank(claim) > rank(held):
            chosen[claim.path] = claim
    return chosen


def join_markings(labels: Iterable[str]) -> ProtectiveMarking:
    """The least marking that dominates every one of ``labels``."""
    markings = [ProtectiveMarking.parse(label) for label in labels]
    top = max((m.classification for m in markings), key=lambda c: c.rank, default=Classification.OFFICIAL)
    caveats = sorted({c for m in markings for c in m.caveats})
    sensitive = top is Classification.OFFICIAL and any(m.sensitive for m in markings)
    return ProtectiveMarking(classification=top, sensitive=sensitive, caveats=tuple(caveats))


def compose(incoming: Entity, chosen: Mapping[str, Claim]) -> Entity:
    """The current record: each field's chosen value, with the incoming record's id, version and source.

    If the chosen values do not make a valid record together (a rule across
    fields that no single source broke), the incoming document is taken whole.
    """
    marking = join_markings([incoming.marking.label, *(c.marking for c in chosen.values())])
    data: dict[str, Any] = {path: claim.value for path, claim in chosen.items()}
    data.update(
        id=incoming.id,
        version=incoming.version,
        provenance=incoming.provenance.model_dump(mode="json", exclude_none=True),
        marking=marking.model_dump(mode="json"),
    )
    try:
        return incoming.model_validate(data)
    except ValidationError:
        return incoming


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> tuple[str, ...]:
    """Top-level fields whose value differs, ignoring the version and provenance that always move."""
    if before is None:
        return tuple(sorted(k for k in after if k not in NOT_CHANGES))
    keys = (set(before) | set(after)) - NOT_CHANGES
    return tuple(sorted(k for k in keys if before.get(k) != after.get(k)))
