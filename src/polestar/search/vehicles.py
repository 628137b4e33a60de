"""Vehicle search: full or partial registration with wildcards, make, model, colour.

Reads the store's current vehicle documents (``store_entities``; merged records
answer as their survivor). Registrations are matched on the model's ``mark``
(upper case, no spaces): ``?`` stands for one character, ``*`` for any run, so
``AB12*`` or ``?B12C?E``. Make and model match case-insensitively; colour is the
DVLA colour code. There is no keys table yet: this is a filtered scan of vehicle
records, fine for a force's fleet of records, a keys table when it is not.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, String, func, select

from polestar.store.tables import entities

_MARK = re.compile(r"^[A-Z0-9?*]{1,15}$")


class VehicleQuery(BaseModel):
    """A vehicle search as typed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    registration: str | None = Field(
        default=None, description="Full or partial mark; ? one character, * any run.", examples=["AB12*"]
    )
    make: str | None = Field(default=None, examples=["Ford"])
    model: str | None = Field(default=None, examples=["Focus"])
    colour: str | None = Field(default=None, description="DVLA colour code or name.", examples=["BLUE"])
    limit: int = Field(default=20, ge=1, le=200)

    @model_validator(mode="after")
    def _asks_something(self) -> VehicleQuery:
        if not any((self.registration, self.make, self.model, self.colour)):
            raise ValueError("a vehicle search needs a registration, make, model or colour")
        if self.registration and not _MARK.match(self.pattern_text):
            raise ValueError("a registration may hold letters, digits, spaces, ? and *")
        return self

    @property
    def pattern_text(self) -> str:
        """The typed registration upper case without spaces."""
        return re.sub(r"[\s\-]", "", (self.registration or "").upper())


class VehicleMatch(BaseModel):
    """One vehicle found, with which fields matched."""

    model_config = ConfigDict(frozen=True)

    vehicle_id: str
    registration: str | None
    make: str | None
    model: str | None
    colour: str | None
    matched: tuple[str, ...] = Field(description="The fields that matched, e.g. ['registration', 'colour'].")


def search_vehicles(conn: Connection, query: VehicleQuery) -> list[VehicleMatch]:
    """Vehicles matching every field given, registration order."""
    doc = entities.c.document
    mark = doc["registration"]["mark"].as_string()
    statement = select(entities.c.id, doc).where(
        entities.c.kind == "vehicle", entities.c.merged_into.is_(None)
    )
    matched: list[str] = []
    if query.registration:
        like = query.pattern_text.replace("?", "_").replace("*", "%")
        statement = statement.where(mark.like(like))
        matched.append("registration")
    for name in ("make", "model", "colour"):
        value = getattr(query, name)
        if value:
            statement = statement.where(func.lower(doc[name].as_string().cast(String)) == value.lower())
            matched.append(name)
    rows = conn.execute(statement.order_by(mark, entities.c.id).limit(query.limit)).all()
    return [_match(row.id, row.document, tuple(matched)) for row in rows]


def _match(vehicle_id: str, document: dict[str, Any], matched: tuple[str, ...]) -> VehicleMatch:
    registration = document.get("registration") or {}
    return VehicleMatch(
        vehicle_id=vehicle_id,
        registration=registration.get("display") or registration.get("mark"),
        make=document.get("make"),
        model=document.get("model"),
        colour=document.get("colour"),
        matched=matched,
    )
