"""Link search: associates of a record within N hops, and everyone linked to an address or vehicle.

Both are the store's breadth-first ``traverse`` (cycle-safe, bounded, merges
resolved), narrowed to the kinds and roles asked for, with a one-line
description of each record found so a result can be recognised without
opening it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from polestar.store import SqlStore


class LinkedRecord(BaseModel):
    """A record reached from the one asked about."""

    model_config = ConfigDict(frozen=True)

    entity_id: str
    kind: str
    depth: int = Field(description="Links away from the record asked about (1: directly linked).")
    role: str = Field(description="The role of the link it was reached through.")
    via_link: str
    reached_from: str
    description: str | None = Field(default=None, description="Name, registration, address or summary.")


class LinkedRecords(BaseModel):
    """Records linked to ``root``, nearest first; ``truncated`` if the limit cut the walk short."""

    model_config = ConfigDict(frozen=True)

    root: str
    kind: str
    description: str | None
    linked: list[LinkedRecord]
    truncated: bool


def describe(kind: str, document: dict[str, Any]) -> str | None:
    """A short line a person recognises a record by (None if the document says nothing useful)."""
    if kind == "person":
        name = document.get("name") or {}
        parts = [name.get("given"), *(name.get("middle") or ()), name.get("family")]
        born = document.get("date_of_birth")
        born = born.get("value") if isinstance(born, dict) else born
        text = " ".join(str(p) for p in parts if p)
        return f"{text} (born {born})" if born and text else text or None
    if kind == "vehicle":
        registration = document.get("registration") or {}
        mark = registration.get("display") or registration.get("mark")
        return (
            " ".join(
                str(p)
                for p in (mark, document.get("colour"), document.get("make"), document.get("model"))
                if p
            )
            or None
        )
    if kind == "location":
        address = document.get("address") or {}
        parts = [
            document.get("name"),
            *(address.get("lines") or ()),
            address.get("town"),
            address.get("postcode"),
        ]
        text = ", ".join(str(p) for p in parts if p)
        return text or document.get("description")
    for field in ("summary", "reference", "crime_reference", "offence_description", "description"):
        if document.get(field):
            return str(document[field])
    return None


async def linked_records(
    store: SqlStore,
    entity_id: str,
    *,
    hops: int = 1,
    kinds: Collection[str] | None = None,
    roles: Collection[str] | None = None,
    limit: int = 200,
) -> LinkedRecords | None:
    """Records within ``hops`` links of ``entity_id`` (of ``kinds`` only, if given); None if absent."""
    root = await store.get(entity_id)
    if root is None:
        return None
    walk = await store.traverse(root.id, hops=hops, roles=roles, limit=limit)
    found: list[LinkedRecord] = []
    for associate in walk.associates:
        if kinds and associate.kind not in kinds:
            continue
        record = await store.get(associate.entity_id)
        found.append(
            LinkedRecord(
                entity_id=associate.entity_id,
                kind=associate.kind,
                depth=associate.depth,
                role=associate.role,
                via_link=associate.via_link,
                reached_from=associate.reached_from,
                description=None if record is None else describe(record.kind, record.document),
            )
        )
    return LinkedRecords(
        root=root.id,
        kind=root.kind,
        description=describe(root.kind, root.document),
        linked=found,
        truncated=walk.truncated,
    )
