"""Location search: address text, full or partial postcode, a radius around a point, an area.

Address text is looked up by its words (``search_location_tokens``) and scored
by fuzzy similarity; house numbers must agree. A postcode narrows or scores
(full ``SW1A 2AA``, sector ``SW1A 2`` or outward code ``SW1A``). A radius and
an area (force, beat, ward) are filters: a place outside them is not shown.
Each result carries a score in bits, a band and a per-field explanation, as
person results do; only 'possible' and above are shown unless asked.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rapidfuzz import fuzz
from sqlalchemy import Connection, func, select

from polestar.model.identifiers import canonical_postcode
from polestar.search.place_index import words
from polestar.search.place_tables import location_keys, location_tokens
from polestar.search.query import Band
from polestar.search.scoring import FieldMatch
from polestar.store.sqlbase import roots

EARTH_RADIUS_M = 6_371_008.8
MAX_RADIUS_M = 50_000
CANDIDATES = 500
"""Most locations scored for one address text (those sharing the most words with it)."""
STRONG_AT = 16.0
POSSIBLE_AT = 8.0
COMMON_WORDS = frozenset(
    {"ROAD", "STREET", "ST", "RD", "AVENUE", "AVE", "LANE", "FLAT", "THE", "OF", "CLOSE", "DRIVE", "WAY"}
)
"""Words too common to find an address by (they still count in the similarity)."""
_SECTOR = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")


class NearQuery(BaseModel):
    """A circle: a point (WGS84) and a radius in metres."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False, examples=[51.50354])
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False, examples=[-0.12768])
    radius_m: float = Field(gt=0, le=MAX_RADIUS_M, allow_inf_nan=False, examples=[500])

    def box(self) -> tuple[float, float, float, float]:
        """(south, north, west, east) bounding the circle, for the indexed pre-filter."""
        dlat = math.degrees(self.radius_m / EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(self.latitude)), 1e-6)
        return self.latitude - dlat, self.latitude + dlat, self.longitude - dlon, self.longitude + dlon

    def distance_m(self, latitude: float, longitude: float) -> float:
        """Great-circle (haversine) distance from the centre, metres."""
        p1, p2 = math.radians(self.latitude), math.radians(latitude)
        dp, dl = p2 - p1, math.radians(longitude - self.longitude)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


class AreaQuery(BaseModel):
    """Where, without an address: a postcode (full or partial), a circle, a force, beat or ward."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    postcode: str | None = Field(
        default=None,
        max_length=9,
        description="Full postcode, sector or outward code.",
        examples=["SW1A 2AA", "SW1A 2", "SW1A"],
    )
    near: NearQuery | None = Field(default=None, description="Within this radius of a point.")
    force: str | None = Field(default=None, pattern=r"^[0-9]{2}$", description="Force code.", examples=["01"])
    beat: str | None = Field(default=None, max_length=16, examples=["CX12"])
    ward: str | None = Field(default=None, pattern=r"^[ENSW]\d{8}$", examples=["E05013806"])

    @model_validator(mode="after")
    def _postcode_shape(self) -> AreaQuery:
        postcode_level(self.postcode)
        return self

    @property
    def given(self) -> bool:
        """True if any part of an area was given."""
        return any((self.postcode, self.near, self.force, self.beat, self.ward))


class LocationQuery(AreaQuery):
    """A location search as typed: address text and/or any part of an area."""

    text: str | None = Field(
        default=None, max_length=300, description="Address as typed, any order.", examples=["14 acacia ave"]
    )
    limit: int = Field(default=10, ge=1, le=200, description="Most results to return.")
    include_below: bool = Field(default=False, description="Also return results below 'possible'.")

    @model_validator(mode="after")
    def _asks_something(self) -> LocationQuery:
        if not (self.given or (self.text and words(self.text))):
            raise ValueError(
                "a location search needs address text, a postcode, a point and radius, or an area"
            )
        return self


class LocationMatch(BaseModel):
    """One location found: its score, band, why, and what it says."""

    model_config = ConfigDict(frozen=True)

    location_id: str
    score: float
    band: Band
    address: str = Field(description="Name, address lines and town as held, normalised.")
    postcode: str | None
    distance_m: float | None = Field(default=None, description="From the point asked about, if one was.")
    fields: tuple[FieldMatch, ...] = ()


def postcode_level(typed: str | None) -> tuple[str, str] | None:
    """("postcode" | "sector" | "outward", canonical text) of a typed postcode; ``ValueError`` if invalid."""
    if not typed:
        return None
    compact = re.sub(r"\s+", "", typed).upper()
    try:
        return "postcode", canonical_postcode(compact)
    except ValueError:
        pass
    if _SECTOR.match(compact):
        return "sector", f"{compact[:-1]} {compact[-1]}"
    if _OUTWARD.match(compact):
        return "outward", compact
    raise ValueError(f"postcode {typed!r} is not a UK postcode, sector (SW1A 2) or outward code (SW1A)")


def area_filter(statement: Any, area: AreaQuery) -> Any:
    """``statement`` (selecting from ``search_location_keys``) narrowed to ``area``."""
    t = location_keys.c
    level = postcode_level(area.postcode)
    if level is not None:
        column = {"postcode": t.postcode, "sector": t.sector, "outward": t.outward}[level[0]]
        statement = statement.where(column == level[1])
    if area.near is not None:
        south, north, west, east = area.near.box()
        statement = statement.where(t.latitude.between(south, north), t.longitude.between(west, east))
    for name in ("force", "beat", "ward"):
        value = getattr(area, name)
        if value:
            statement = statement.where(getattr(t, name) == value)
    return statement


def search_locations(conn: Connection, query: LocationQuery) -> list[LocationMatch]:
    """Locations matching ``query``, best first (nearest first when only a circle or area was asked)."""
    t = location_keys.c
    typed = words(query.text or "")
    statement = select(location_keys)
    if typed:
        ids = _by_words(conn, typed)
        if not ids:
            return []
        statement = statement.where(t.location_id.in_(ids))
        # A typed postcode scores rather than filters when there is text: it may be the typo.
        statement = area_filter(statement, query.model_copy(update={"postcode": None}))
    else:
        statement = area_filter(statement, query).order_by(t.location_id).limit(5000)
    rows = conn.execute(statement).all()
    matches = [m for m in (_score(query, typed, row) for row in rows) if m is not None]
    matches.sort(key=lambda m: (-m.score, m.distance_m or 0.0, m.location_id))
    matches = _fold(conn, matches)
    shown = [m for m in matches if query.include_below or m.band is not Band.BELOW]
    return shown[: query.limit]


def _by_words(conn: Connection, typed: Sequence[str]) -> list[str]:
    rare = [w for w in dict.fromkeys(typed) if w not in COMMON_WORDS and (len(w) > 1 or w.isdigit())]
    wanted = rare or list(dict.fromkeys(typed))
    t = location_tokens.c
    shared = func.count().label("shared")
    rows = conn.execute(
        select(t.location_id, shared)
        .where(t.token.in_(wanted))
        .group_by(t.location_id)
        .order_by(shared.desc(), t.location_id)
        .limit(CANDIDATES)
    ).all()
    return [r.location_id for r in rows]


def _score(query: LocationQuery, typed: Sequence[str], row: Any) -> LocationMatch | None:  # noqa: PLR0912 - one branch per field
    fields: list[FieldMatch] = []
    distance = None
    if query.near is not None:
        if row.latitude is None or row.longitude is None:
            return None
        distance = query.near.distance_m(row.latitude, row.longitude)
        if distance > query.near.radius_m:
            return None
        fields.append(FieldMatch("near", "within", 0.0, f"{distance:.0f} m from the point"))
    fields.extend(
        FieldMatch(name, "same", 0.0, f"{name} {getattr(query, name)}")
        for name in ("force", "beat", "ward")
        if getattr(query, name)
    )
    level = postcode_level(query.postcode)
    if level is not None:
        fields.append(_postcode_field(level, row))
    if typed:
        held = row.text.split()
        numbers = {w for w in typed if w[0].isdigit()}
        held_numbers = {w for w in held if w[0].isdigit()}
        if numbers and held_numbers:
            if numbers & held_numbers:
                fields.append(
                    FieldMatch("number", "same", 4.0, f"number {' '.join(sorted(numbers & held_numbers))}")
                )
            else:
                fields.append(
                    FieldMatch("number", "different", -8.0, f"number {' '.join(sorted(held_numbers))}")
                )
        similarity = fuzz.token_set_ratio(" ".join(typed), row.text)
        if similarity >= 95:
            fields.append(FieldMatch("address", "exact", 14.0, f"address {row.text.lower()}"))
        elif similarity >= 85:
            fields.append(FieldMatch("address", "close", 9.0, f"address close ({similarity:.0f}%)"))
        elif similarity >= 70:
            fields.append(FieldMatch("address", "fuzzy", 4.0, f"address partly ({similarity:.0f}%)"))
        else:
            fields.append(FieldMatch("address", "different", -6.0, f"address unlike ({similarity:.0f}%)"))
    score = sum(f.weight for f in fields)
    scored = typed or level is not None
    if not scored:
        band = Band.STRONG  # only filters were asked: everything left meets every one exactly
    else:
        band = Band.STRONG if score >= STRONG_AT else Band.POSSIBLE if score >= POSSIBLE_AT else Band.BELOW
    return LocationMatch(
        location_id=row.location_id,
        score=round(score, 3),
        band=band,
        address=row.text,
        postcode=row.postcode,
        distance_m=None if distance is None else round(distance, 1),
        fields=tuple(fields),
    )


def _postcode_field(level: tuple[str, str], row: Any) -> FieldMatch:
    kind, value = level
    if row.postcode is None:
        return FieldMatch("postcode", "unknown", 0.0, "no postcode held")
    if kind == "postcode" and row.postcode == value:
        return FieldMatch("postcode", "exact", 12.0, f"postcode {value}")
    if row.sector == value or (kind == "postcode" and row.sector == value[:-2]):
        return FieldMatch(
            "postcode", "sector", 8.0 if kind == "sector" else 4.0, f"postcode sector {row.sector}"
        )
    if row.outward == value or row.outward == value.split(" ")[0]:
        return FieldMatch(
            "postcode", "outward", 8.0 if kind == "outward" else 1.0, f"outward code {row.outward}"
        )
    return FieldMatch("postcode", "different", -6.0, f"postcode {row.postcode}")


def _fold(conn: Connection, matches: list[LocationMatch]) -> list[LocationMatch]:
    """Merged records answer as their survivor, once, at their best score."""
    where = roots(conn, [m.location_id for m in matches])
    seen: set[str] = set()
    folded = []
    for match in matches:
        root = where.get(match.location_id, match.location_id)
        if root not in seen:
            seen.add(root)
            folded.append(match.model_copy(update={"location_id": root}))
    return folded
