"""Objects: vehicles, phones, weapons, drugs, property items and documents."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Self

from pydantic import Field, model_validator

from polestar.model.codes import (
    DocumentType,
    DrugClass,
    PropertyCategory,
    QuantityUnit,
    VehicleColour,
    WeaponType,
)
from polestar.model.common import Entity, PolestarModel, Reference, ShortText, Text
from polestar.model.countries import CountryCode
from polestar.model.identifiers import Imei, PhoneNumber, Vin
from polestar.model.registration import VehicleRegistration


class Quantity(PolestarModel):
    """An amount with its unit: 12.5 g, 30 items."""

    amount: float = Field(gt=0, allow_inf_nan=False, description="How much.", examples=[12.5])
    unit: QuantityUnit = Field(description="In what unit.", examples=["g"])


class Vehicle(Entity):
    """A vehicle: identified by its registration mark and, where known, its VIN."""

    schema_name: ClassVar[str] = "vehicle"

    registration: VehicleRegistration | None = Field(
        default=None,
        description="Registration mark and issuing country.",
        examples=[{"mark": "AB12 CDE", "country": "GBR"}],
    )
    vin: Vin | None = Field(default=None, description="Vehicle identification number.")
    make: ShortText | None = Field(default=None, examples=["Ford"])
    model: ShortText | None = Field(default=None, examples=["Focus"])
    colour: VehicleColour | None = Field(default=None, description="Main colour, as DVLA records it.")
    year_of_manufacture: int | None = Field(default=None, ge=1885, le=2100, examples=[2012])
    description: Text | None = Field(default=None, examples=["dent to nearside rear door"])

    @model_validator(mode="after")
    def _identifiable(self) -> Self:
        if self.registration is None and self.vin is None and self.description is None:
            raise ValueError("a vehicle needs a registration, a VIN or a description")
        return self


class Phone(Entity):
    """A telephone handset or SIM: its IMEI and the number it was using."""

    schema_name: ClassVar[str] = "phone"

    imei: Imei | None = Field(default=None, description="The handset's IMEI.")
    number: PhoneNumber | None = Field(default=None, description="The number in use, E.164.")
    make: ShortText | None = Field(default=None, examples=["Apple"])
    model: ShortText | None = Field(default=None, examples=["iPhone 13"])
    description: Text | None = None

    @model_validator(mode="after")
    def _identifiable(self) -> Self:
        if self.imei is None and self.number is None and self.description is None:
            raise ValueError("a phone needs an IMEI, a number or a description")
        return self


class Weapon(Entity):
    """A weapon seized, found, seen or described."""

    schema_name: ClassVar[str] = "weapon"

    weapon_type: WeaponType = Field(description="Kind of weapon.", examples=["knife"])
    description: Text | None = Field(default=None, examples=["kitchen knife, 20 cm blade, black handle"])
    serial_number: ShortText | None = Field(default=None, description="Serial number, for firearms.")


class Drug(Entity):
    """A controlled drug or psychoactive substance."""

    schema_name: ClassVar[str] = "drug"

    drug_class: DrugClass = Field(description="Legal class.", examples=["A"])
    substance: ShortText | None = Field(
        default=None, description="What the substance is, or is believed to be.", examples=["cocaine"]
    )
    form: ShortText | None = Field(default=None, examples=["white powder in 12 wraps"])
    quantity: Quantity | None = None


class PropertyItem(Entity):
    """An item of property: stolen, found, seized or a detainee's own."""

    schema_name: ClassVar[str] = "property-item"

    category: PropertyCategory = Field(description="Kind of item.", examples=["electronics"])
    description: Text = Field(examples=["silver Apple MacBook Air laptop"])
    serial_number: ShortText | None = None
    quantity: Quantity | None = None
    estimated_value_pence: int | None = Field(
        default=None, ge=0, description="Estimated value in pence (GBP).", examples=[85000]
    )
    bag_reference: Reference | None = Field(
        default=None, description="Property bag seal number, for seized items.", examples=["M0123456"]
    )


class Document(Entity):
    """A document: passport, licence, card or paper."""

    schema_name: ClassVar[str] = "document"

    document_type: DocumentType = Field(examples=["passport"])
    number: ShortText | None = Field(default=None, description="The document's own number.")
    issuing_country: CountryCode | None = None
    issuing_authority: ShortText | None = Field(default=None, examples=["HM Passport Office"])
    expires_on: date | None = None
    description: Text | None = None
