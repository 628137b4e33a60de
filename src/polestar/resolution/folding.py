"""Folding two records of one person (or car, or place) together while others resolve at the same time.

The hub resolves a batch's records concurrently, and two batches may run at once:
two records of one person each find the other, or both find a third, and the
merges they decide on cross. A merge decided on reads that are already stale
would be refused by the store (one side merged meanwhile) and the outcome lost.

``fold`` merges *groups*, not the records as read: it reads both sides' current
survivors, does nothing if they are one already, else merges the younger
survivor into the elder (``elder``), and if the store refuses because a side was
merged meanwhile, reads again and folds what is there now. Every merge it makes
is between two survivors, so the result is one group, whoever got there first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from polestar.resolution.errors import ResolutionError
from polestar.store import MergeRefused, SqlStore, StoredEntity

FOLD_ATTEMPTS = 16
"""Reads and merges one fold tries; each refusal means another merge of the same records committed."""


@dataclass(frozen=True, slots=True)
class Folded:
    """The group's survivor after a fold, and the merge it made (None if the two were one already)."""

    survivor_id: str
    merge_id: str | None


def elder(one: StoredEntity, other: StoredEntity) -> tuple[StoredEntity, StoredEntity]:
    """(survivor, merged): the record the store has held longest survives, whichever arrived last.

    Two records of one person arriving together are resolved in parallel, each finding
    the other; the rule makes both reach the same merge, whichever runs first.
    """
    if (other.created_at, other.id) < (one.created_at, one.id):
        return other, one
    return one, other


async def fold(
    store: SqlStore,
    record_id: str,
    candidate_id: str,
    *,
    actor: str,
    reason: str,
    agrees: Callable[[StoredEntity, StoredEntity], Awaitable[bool]] | None = None,
) -> Folded | None:
    """Make ``record_id``'s group and ``candidate_id``'s group one; None if that is no longer right.

    ``agrees(mine, theirs)`` is asked about the two groups' survivors, as they are then,
    before every merge: either side may have been merged with something else since the
    caller judged the pair (by a resolution alongside, or by this one's earlier folds),
    and the groups may now hold identifiers that differ, or records a person unmerged.
    False leaves the two apart and returns None, so the caller can queue a review instead.
    """
    last: tuple[str, str] | None = None
    refused: MergeRefused | None = None
    for _ in range(FOLD_ATTEMPTS):
        mine, theirs = await store.get(record_id), await store.get(candidate_id)
        if mine is None or theirs is None:
            raise ResolutionError(f"{record_id if mine is None else candidate_id} is no longer held")
        if mine.id == theirs.id:
            return Folded(mine.id, None)  # folded already (by a resolution running alongside)
        if agrees is not None and not await agrees(mine, theirs):
            return None
        if refused is not None and (mine.id, theirs.id) == last:
            raise refused  # refused with nothing changed: not a race, the store's reason stands
        last = (mine.id, theirs.id)
        survivor, merged = elder(mine, theirs)
        try:
            merge = await store.merge(survivor.id, merged.id, actor=actor, reason=reason)
        except MergeRefused as exc:
            refused = exc  # one side was merged between the reads and the merge: read again
            continue
        return Folded(survivor.id, merge.id)
    raise ResolutionError(f"could not fold {record_id} with {candidate_id}: both kept changing")
