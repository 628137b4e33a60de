"""People: names, dates of birth that may be partial, identifiers, descriptions and contact points.

A person is one entity whatever part they play: suspect, victim, witness,
officer. Roles are links (:mod:`polestar.model.links`), never kinds of person.
"""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from polestar.model.codes import (
    Build,
    ContactUse,
    EthnicAppearance,
    EyeColour,
    Gender,
    HairColour,
    IdentifierType,
    MarkType,
    NameType,
)
from polestar.model.common import Entity, PolestarModel, ShortText, Text
from polestar.model.countries import UNITED_KINGDOM, CountryCode
from polestar.model.identifiers import (
    CroNumber,
    DrivingLicenceNumber,
    EmailAddress,
    NationalInsuranceNumber,
    PhoneNumber,
    PncId,
    canonical_passport,
    canonical_uk_passport,
)
from polestar.model.timeutil import local_today

# --- Dates of birth -------------------------------------------------------------------------------

_PARTIAL_DATE = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?$")


def partial_date_bounds(value: str) -> tuple[date, date]:
    """The first and last day a partial date (``1985``, ``1985-06``, ``1985-06-14``) can mean."""
    match = _PARTIAL_DATE.match(value)
    if match is None:
        raise ValueError(f"date {value!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(match.group("year"))
    try:
        if match.group("day"):
            exact = date(year, int(match.group("month")), int(match.group("day")))
            return exact, exact
        if match.group("month"):
            month = int(match.group("month"))
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        return date(year, 1, 1), date(year, 12, 31)
    except ValueError as exc:
        raise ValueError(f"date {value!r} is not a real date: {exc}") from None


def _not_future(what: str, value: date) -> None:
    if value > local_today():
        raise ValueError(f"{what} {value.isoformat()} is in the future")


PartialDate = Annotated[
    str,
    Field(
        description="A date known to the year, the month or the day: YYYY, YYYY-MM or YYYY-MM-DD.",
        examples=["1985", "1985-06", "1985-06-14"],
    ),
]


class DateOfBirth(PolestarModel):
    """A date of birth: exact, partial (year or month), or a range when only an age band is known.

    Give either ``value`` or both ``earliest`` and ``latest``. A bare string is
    read as ``value``. Dates in the future are refused.
    """

    value: PartialDate | None = Field(default=None)
    earliest: date | None = Field(
        default=None, description="Earliest possible date of birth of a range.", examples=["1990-01-01"]
    )
    latest: date | None = Field(
        default=None, description="Latest possible date of birth of a range.", examples=["1995-12-31"]
    )

    @model_validator(mode="before")
    @classmethod
    def _bare_string_is_value(cls, data: Any) -> Any:
        return {"value": data} if isinstance(data, str) else data

    @field_validator("value")
    @classmethod
    def _real_and_not_future(cls, value: str | None) -> str | None:
        if value is not None:
            _not_future("date of birth", partial_date_bounds(value)[0])
        return value

    @field_validator("earliest", "latest")
    @classmethod
    def _bound_not_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None:
            _not_future(f"date of birth {info.field_name} bound", value)
        return value

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        has_range = self.earliest is not None or self.latest is not None
        if self.value is not None and has_range:
            raise ValueError("give a date of birth as 'value' or as 'earliest'/'latest', not both")
        if self.value is None and (self.earliest is None or self.latest is None):
            raise ValueError("a date of birth needs 'value', or both 'earliest' and 'latest'")
        if self.earliest is not None and self.latest is not None and self.earliest > self.latest:
            raise ValueError(f"date of birth range is reversed: {self.earliest} is after {self.latest}")
        return self

    @property
    def bounds(self) -> tuple[date, date]:
        """The first and last possible date of birth, for search and age calculation."""
        if self.value is not None:
            first, last = partial_date_bounds(self.value)
            return first, min(last, local_today())
        assert self.earliest is not None
        assert self.latest is not None
        return self.earliest, self.latest

    @property
    def exact(self) -> date | None:
        """The date of birth when it is known to the day, else None."""
        first, last = self.bounds
        return first if first == last else None


def licence_birth_date(licence: str, year: int) -> date | None:
    """The date of birth a DVLA licence number encodes, if it fits a birth in ``year``'s decade."""
    decade, month, day, unit = licence[5], int(licence[6:8]) % 50, int(licence[8:10]), licence[10]
    if f"{year:04d}"[2:] != decade + unit:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


# --- Names ----------------------------------------------------------------------------------------


class PersonName(PolestarModel):
    """A person's name, split as police systems hold it."""

    title: ShortText | None = Field(default=None, description="Title, e.g. Mr, Ms, Dr.", examples=["Ms"])
    given: ShortText | None = Field(default=None, description="First given name.", examples=["Sarah"])
    middle: tuple[ShortText, ...] = Field(
        default=(), description="Middle names, in order.", examples=[["Meredyth"]]
    )
    family: ShortText | None = Field(default=None, description="Family name (surname).", examples=["Morgan"])

    @model_validator(mode="after")
    def _has_a_name(self) -> Self:
        if self.given is None and self.family is None:
            raise ValueError("a name needs a given name or a family name")
        return self

    @property
    def full(self) -> str:
        """The name as written: given, middle, family."""
        return " ".join(p for p in (self.given, *self.middle, self.family) if p)


class Alias(PersonName):
    """Another name a person uses or used: an alias, maiden name, nickname or previous name."""

    type: NameType = Field(description="What kind of name this is.", examples=["alias"])


# --- Identifiers ----------------------------------------------------------------------------------


class PncIdentifier(PolestarModel):
    """A Police National Computer ID."""

    type: Literal[IdentifierType.PNC] = IdentifierType.PNC
    value: PncId


class CroIdentifier(PolestarModel):
    """A Criminal Records Office number."""

    type: Literal[IdentifierType.CRO] = IdentifierType.CRO
    value: CroNumber


class DrivingLicenceIdentifier(PolestarModel):
    """A DVLA driving licence number."""

    type: Literal[IdentifierType.DRIVING_LICENCE] = IdentifierType.DRIVING_LICENCE
    value: DrivingLicenceNumber


class NinoIdentifier(PolestarModel):
    """A National Insurance number."""

    type: Literal[IdentifierType.NINO] = IdentifierType.NINO
    value: NationalInsuranceNumber


class PassportIdentifier(PolestarModel):
    """A passport number; UK passports (the default) are checked as 9 digits."""

    type: Literal[IdentifierType.PASSPORT] = IdentifierType.PASSPORT
    issuing_country: CountryCode = Field(default=UNITED_KINGDOM, description="Issuing state.")
    value: str = Field(description="Passport number.", examples=["925076473"])
    expires_on: date | None = Field(default=None, description="Expiry date, where known.")

    @field_validator("value")
    @classmethod
    def _by_issuer(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("issuing_country", UNITED_KINGDOM) == UNITED_KINGDOM:
            return canonical_uk_passport(value)
        return canonical_passport(value)


PersonIdentifier = Annotated[
    PncIdentifier | CroIdentifier | DrivingLicenceIdentifier | NinoIdentifier | PassportIdentifier,
    Field(discriminator="type"),
]
"""One typed identifier, ``{"type": "PNC", "value": "1979/0163001B"}``, checked by its type's rules."""


# --- Description and contact ----------------------------------------------------------------------


class DistinguishingMark(PolestarModel):
    """A scar, mark or tattoo and where it is."""

    type: MarkType = Field(description="Kind of mark.", examples=["tattoo"])
    body_location: ShortText = Field(description="Where on the body.", examples=["left forearm"])
    description: Text | None = Field(default=None, examples=["swallow in blue ink"])


class PhysicalDescription(PolestarModel):
    """What a person looks like."""

    height_cm: int | None = Field(default=None, ge=40, le=272, description="Height in cm.", examples=[178])
    build: Build | None = None
    eye_colour: EyeColour | None = None
    hair_colour: HairColour | None = None
    ethnic_appearance: EthnicAppearance | None = Field(
        default=None, description="Officer-defined ethnicity (IC code)."
    )
    marks: tuple[DistinguishingMark, ...] = Field(default=(), description="Scars, marks and tattoos.")
    notes: Text | None = Field(default=None, description="Anything else: clothing, accent, gait.")


class PhoneContact(PolestarModel):
    """A telephone number a person can be reached on."""

    kind: Literal["phone"] = "phone"
    number: PhoneNumber
    use: ContactUse | None = None


class EmailContact(PolestarModel):
    """An email address a person can be reached at."""

    kind: Literal["email"] = "email"
    address: EmailAddress
    use: ContactUse | None = None


ContactPoint = Annotated[PhoneContact | EmailContact, Field(discriminator="kind")]


# --- Person ---------------------------------------------------------------------------------------


class Person(Entity):
    """A person known to a force, in whatever role: suspect, victim, witness, officer, keeper."""

    schema_name: ClassVar[str] = "person"

    name: PersonName
    aliases: tuple[Alias, ...] = Field(default=(), description="Other names the person is known by.")
    date_of_birth: DateOfBirth | None = Field(default=None, description="Date of birth, exact or partial.")
    place_of_birth: ShortText | None = Field(default=None, examples=["Cardiff"])
    gender: Gender = Field(default=Gender.NOT_KNOWN, description="ISO/IEC 5218 gender code.")
    nationalities: tuple[CountryCode, ...] = Field(default=(), examples=[["GBR"]])
    identifiers: tuple[PersonIdentifier, ...] = Field(
        default=(),
        description="PNC ID, CRO number, driving licence, passport, National Insurance number.",
        examples=[[{"type": "PNC", "value": "1979/0163001B"}]],
    )
    description: PhysicalDescription | None = None
    contact_points: tuple[ContactPoint, ...] = Field(default=(), description="Phones and email addresses.")

    @model_validator(mode="after")
    def _no_repeats(self) -> Self:
        if len(set(self.nationalities)) != len(self.nationalities):
            raise ValueError("a nationality is repeated")
        keys = [(i.type, i.value) for i in self.identifiers]
        if len(set(keys)) != len(keys):
            raise ValueError("an identifier is repeated")
        born = self.date_of_birth.exact if self.date_of_birth else None
        for licence in (i.value for i in self.identifiers if i.type == IdentifierType.DRIVING_LICENCE):
            if born is not None and licence_birth_date(licence, born.year) != born:
                raise ValueError(
                    f"driving licence {licence!r} encodes a date of birth other than {born.isoformat()}"
                )
        return self

    def identifier(self, kind: IdentifierType) -> str | None:
        """The first identifier of ``kind`` (e.g. the PNC ID), or None."""
        return next((i.value for i in self.identifiers if i.type == kind), None)
