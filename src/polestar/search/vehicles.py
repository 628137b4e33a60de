"""Vehicle search: full or partial registration with wildcards, make, model, colour.

Reads the vehicle keys (``search.vehicle_keys``, kept by ``PlaceIndex``).
Registrations are matched on the mark upper case without spaces: ``?`` stands
for one character, ``*`` for any run, so ``AB12*``, ``*CDE`` or ``A?12 CDE``.
A pattern is answered from a range of an index on whichever end holds the most
literal characters (the mark, the mark reversed, or the mark after a leading
``?``); one with a wildcard at both ends otherwise (``*12C*``) reads the whole
mark index, so it must hold at least two letters or digits.
Make and model match case-insensitively; colour is the DVLA colour code
(``blue``). A merged record is found by its own keys and answers as its
survivor, once.

Results come in registration order; without a registration, by colour and then
registration (the order the make, model and colour indexes hold them in, so the
first page of a broad filter is read without sorting every match).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import ColumnElement, Connection, Select, select

from polestar.model.codes import VehicleColour
from polestar.search.index import has_store
from polestar.search.vehicle_keys import text_key, vehicle_keys
from polestar.store.sqlbase import roots

WILDCARDS = "?*"
MAX_MARK = 15
"""A mark has at most 15 characters (``VehicleRegistration.mark``)."""
UNANCHORED_LITERALS = 2
"""Letters or digits a pattern with a wildcard at both ends needs: it reads the whole mark index."""
_TYPED = re.compile(r"^[A-Z0-9?*]+$")
_IGNORED = re.compile(r"[\s\-]")
_COLOURS = tuple(c.value for c in VehicleColour)
_ABOVE_MARK = "~"
"""Sorts after every letter and digit (byte order): ``prefix <= mark < prefix + '~'`` is a prefix range."""


def registration_pattern(typed: str) -> str:
    """The mark pattern of a typed registration: upper case, spaces and hyphens dropped, ``**`` made ``*``.

    Raises ``ValueError`` saying what is wrong: a character other than a letter,
    digit, ``?`` or ``*``; only wildcards; more characters than a mark has; or a
    wildcard at both ends with fewer than two letters or digits.
    """
    pattern = re.sub(r"\*+", "*", _IGNORED.sub("", typed.upper()))
    if not pattern:
        raise ValueError("a registration needs at least one letter or digit")
    if not _TYPED.match(pattern):
        bad = sorted({c for c in pattern if not (c.isascii() and c.isalnum()) and c not in WILDCARDS})
        raise ValueError(
            f"a registration may hold letters, digits, spaces, ? and *; not {' '.join(map(repr, bad))}"
        )
    literals = sum(c not in WILDCARDS for c in pattern)
    if literals == 0:
        raise ValueError("a registration pattern needs at least one letter or digit, not only ? and *")
    if len(pattern.replace("*", "")) > MAX_MARK:
        raise ValueError(f"a registration has at most {MAX_MARK} letters and digits")
    if pattern[0] in WILDCARDS and pattern[-1] in WILDCARDS and literals < UNANCHORED_LITERALS:
        raise ValueError(
            "a pattern with a wildcard at both ends needs at least two letters or digits, e.g. *12C*"
        )
    return pattern


class VehicleQuery(BaseModel):
    """A vehicle search as typed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    registration: str | None = Field(
        default=None,
        max_length=40,
        description="Full or partial mark; ? one character, * any run (spaces and hyphens ignored).",
        examples=["AB12*", "*CDE", "A?12 CDE"],
    )
    make: str | None = Field(default=None, max_length=64, examples=["Ford"])
    model: str | None = Field(default=None, max_length=64, examples=["Focus"])
    colour: str | None = Field(
        default=None, max_length=16, description="DVLA colour code, e.g. blue.", examples=["blue"]
    )
    limit: int = Field(default=20, ge=1, le=200)

    @field_validator("registration")
    @classmethod
    def _a_pattern(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            registration_pattern(value)
        return value

    @field_validator("colour")
    @classmethod
    def _a_colour(cls, value: str | None) -> str | None:
        if value is not None and value.strip() and value.strip().lower() not in _COLOURS:
            raise ValueError(f"{value!r} is not a DVLA colour; use one of {', '.join(_COLOURS)}")
        return value

    @model_validator(mode="after")
    def _asks_something(self) -> VehicleQuery:
        if not any(v and v.strip() for v in (self.registration, self.make, self.model, self.colour)):
            raise ValueError("a vehicle search needs a registration, make, model or colour")
        return self

    @property
    def pattern_text(self) -> str:
        """The registration pattern (upper case, no spaces); empty if none was typed."""
        typed = (self.registration or "").strip()
        return registration_pattern(typed) if typed else ""


class VehicleMatch(BaseModel):
    """One vehicle found, with which fields matched."""

    model_config = ConfigDict(frozen=True)

    vehicle_id: str
    registration: str | None
    make: str | None
    model: str | None
    colour: str | None
    matched: tuple[str, ...] = Field(description="The fields that matched, e.g. ['registration', 'colour'].")


def registration_clauses(pattern: str, dialect: str) -> list[ColumnElement[bool]]:
    """The conditions matching a mark pattern, with the index range that answers it."""
    t = vehicle_keys.c
    if not any(c in pattern for c in WILDCARDS):
        return [t.mark == pattern]
    clauses: list[ColumnElement[bool]]
    if dialect == "sqlite":
        # On the bare column SQLite turns GLOB into a range of the mark index from the literal
        # prefix, and prefers it even when one letter long; on ``mark || ''`` it checks rows only,
        # leaving the choice of range to the one below.
        clauses = [t.mark.concat("").op("GLOB", is_comparison=True)(pattern)]
    else:  # marks hold only letters and digits, so LIKE needs no escapes
        clauses = [t.mark.like(pattern.replace("?", "_").replace("*", "%"))]
    column, start = anchor(pattern)
    if start:  # else a wildcard at both ends, not after a single ?: the whole mark index is read
        clauses += [vehicle_keys.c[column] >= start, vehicle_keys.c[column] < start + _ABOVE_MARK]
    return clauses


def anchor(pattern: str) -> tuple[str, str]:
    """The key column and literal start of the index range answering a wildcard pattern.

    Of the mark (literal prefix), the mark reversed (literal suffix) and the mark
    after a single leading ``?``, the one resting on the most literal characters,
    as it reads the fewest index entries; ties go to the mark, read in result order.
    """
    prefix = re.split(r"[?*]", pattern, maxsplit=1)[0]
    tail = re.split(r"[?*]", pattern[1:], maxsplit=1)[0] if pattern[:1] == "?" else ""
    backwards = re.split(r"[?*]", pattern)[-1][::-1]
    return max((("mark", prefix), ("mark_reversed", backwards), ("mark_tail", tail)), key=lambda c: len(c[1]))


def vehicle_statement(query: VehicleQuery, dialect: str) -> tuple[Select[Any], tuple[str, ...]]:
    """The ordered select of the key rows matching ``query``, and the fields it matches on."""
    t = vehicle_keys.c
    statement = select(t.vehicle_id, t.registration, t.make, t.model, t.colour)
    matched: list[str] = []
    pattern = query.pattern_text
    # Unanalysed, SQLite would rather read every Ford by the make index and sort them than read
    # 'AB12*' in order, so with a registration the filters are checked on the rows its range
    # reads (on ``make_key || ''``, which no index answers) -- unless a colour is given with a
    # prefix, where (make or model or colour, colour, mark) holds the range itself.
    indexed = not pattern or dialect != "sqlite"
    if pattern and query.colour and any(c in pattern for c in WILDCARDS):
        indexed = anchor(pattern)[0] == "mark" and bool(anchor(pattern)[1])
    if pattern:
        statement = statement.where(*registration_clauses(pattern, dialect))
        matched.append("registration")
    for name, column, value in (
        ("make", t.make_key, text_key(query.make)),
        ("model", t.model_key, text_key(query.model)),
        ("colour", t.colour, (query.colour or "").strip().lower()),
    ):
        if value:
            statement = statement.where((column if indexed else column.concat("")) == value)
            matched.append(name)
    order = (t.mark, t.vehicle_id) if pattern else (t.colour, t.mark, t.vehicle_id)
    return statement.order_by(*order), tuple(matched)


def search_vehicles(conn: Connection, query: VehicleQuery) -> list[VehicleMatch]:
    """Vehicles matching every field given (see the module's docstring for the order)."""
    statement, matched = vehicle_statement(query, conn.dialect.name)
    fold = has_store(conn)
    kept: list[VehicleMatch] = []
    seen: set[str] = set()
    offset = 0
    while len(kept) < query.limit:
        # One page is nearly always enough; more are read only when merged records fold together.
        page = conn.execute(statement.limit(query.limit).offset(offset)).all()
        offset += len(page)
        where = roots(conn, [row.vehicle_id for row in page]) if fold and page else {}
        for row in page:
            root = where.get(row.vehicle_id, row.vehicle_id)
            if root not in seen and len(kept) < query.limit:
                seen.add(root)
                kept.append(
                    VehicleMatch(
                        vehicle_id=root,
                        registration=row.registration,
                        make=row.make,
                        model=row.model,
                        colour=row.colour or None,
                        matched=matched,
                    )
                )
        if len(page) < query.limit:
            break
    return kept
