"""Locations: addresses with UPRN and postcode, WGS84 coordinates, policing areas, free text."""

from __future__ import annotations

from typing import Annotated, ClassVar, Self

from pydantic import Field, StringConstraints, model_validator

from polestar.model.common import Entity, ForceCode, PolestarModel, ShortText, Text
from polestar.model.identifiers import UkPostcode, Uprn


class Address(PolestarModel):
    """A postal address. ``lines`` run from the flat or building to the street and locality."""

    lines: tuple[ShortText, ...] = Field(
        min_length=1,
        max_length=6,
        description="Address lines, most specific first.",
        examples=[["Flat 2", "14 Acacia Avenue", "Sketty"]],
    )
    town: ShortText | None = Field(default=None, description="Post town.", examples=["Swansea"])
    county: ShortText | None = Field(default=None, examples=["West Glamorgan"])
    postcode: UkPostcode | None = None
    uprn: Uprn | None = None


class Coordinates(PolestarModel):
    """A point in WGS84 (EPSG:4326), as GPS and mapping services give it."""

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False, examples=[51.50354])
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False, examples=[-0.12768])
    accuracy_m: float | None = Field(
        default=None, ge=0, allow_inf_nan=False, description="Radius of uncertainty in metres."
    )


class PolicingArea(PolestarModel):
    """The policing and administrative areas a location falls in."""

    force: ForceCode | None = None
    beat: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9/-]{0,15}$")] | None = Field(
        default=None, description="Force beat or patrol area code.", examples=["CX12"]
    )
    ward: Annotated[str, StringConstraints(pattern=r"^[ENSW]\d{8}$")] | None = Field(
        default=None, description="ONS ward code (GSS).", examples=["E05013806"]
    )
    neighbourhood: ShortText | None = Field(default=None, examples=["St James's"])


class Location(Entity):
    """A place: an address, a point, an area, a description, or several of these."""

    schema_name: ClassVar[str] = "location"

    address: Address | None = None
    coordinates: Coordinates | None = None
    area: PolicingArea | None = None
    description: Text | None = Field(
        default=None,
        description="Free text where there is no address, e.g. a spot in a park.",
        examples=["bus shelter outside Charing Cross station, Strand side"],
    )
    name: ShortText | None = Field(
        default=None,
        description="Name of the place, e.g. a custody suite.",
        examples=["Charing Cross custody"],
    )

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if not (self.address or self.coordinates or self.description or self.name):
            raise ValueError("a location needs an address, coordinates, a name or a description")
        return self
