"""What an officer asks for, and what comes back."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polestar.model.codes import IdentifierType
from polestar.model.identifiers import canonical_cro_number, canonical_driving_licence, canonical_pnc_id
from polestar.model.timeutil import local_today
from polestar.search.keys import BirthDate
from polestar.search.scoring import FieldMatch


class Band(StrEnum):
    """How confident a result is.

    ``strong`` and ``possible`` are shown by default. ``weak`` (people) is shown
    only as a search's clear best: nothing scored "possible" and it scored well
    above every other record. ``below`` is shown only when asked for.
    """

    STRONG = "strong"
    POSSIBLE = "possible"
    WEAK = "weak"
    BELOW = "below"


_CANONICAL = {
    IdentifierType.PNC: canonical_pnc_id,
    IdentifierType.CRO: canonical_cro_number,
    IdentifierType.DRIVING_LICENCE: canonical_driving_licence,
}


class IdentifierQuery(BaseModel):
    """An identifier as typed; PNC IDs, CRO numbers and licences are canonicalised and check-validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: IdentifierType = Field(examples=["PNC"])
    value: str = Field(min_length=1, max_length=64, examples=["2004/0123456Z", "04/123456Z"])

    @model_validator(mode="after")
    def _canonical(self) -> IdentifierQuery:
        canonical = _CANONICAL.get(self.type)
        value = canonical(self.value) if canonical else self.value.strip().upper()
        object.__setattr__(self, "value", value)
        return self


class PersonQuery(BaseModel):
    """A person search as typed: names, a full or partial date of birth or an age range, gender."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    given: str | None = Field(default=None, description="Given name(s) as typed.", examples=["Bob"])
    family: str | None = Field(default=None, description="Family name as typed.", examples=["Smyth"])
    date_of_birth: str | None = Field(
        default=None,
        description="Date of birth known to the year, month or day.",
        examples=["1985", "1985-06", "1985-06-14"],
        pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$",
    )
    age_from: int | None = Field(default=None, ge=0, le=130, description="Youngest age, in years.")
    age_to: int | None = Field(default=None, ge=0, le=130, description="Oldest age, in years.")
    gender: str | None = Field(default=None, pattern=r"^[0129]$", description="ISO/IEC 5218 code.")
    postcode: str | None = Field(
        default=None,
        max_length=9,
        description="Postcode, sector or outward code of an address the person is linked to "
        "(resident, home address); narrows the search to people linked there, current addresses first.",
        examples=["SW1A 1AA", "SW1A 1", "SW1A"],
    )
    identifiers: tuple[IdentifierQuery, ...] = Field(
        default=(), max_length=5, description="PNC ID, CRO number, driving licence... as typed."
    )
    limit: int = Field(default=10, ge=1, le=200, description="Most results to return.")
    include_below: bool = Field(default=False, description="Also return results below 'possible'.")

    @model_validator(mode="after")
    def _asks_something(self) -> PersonQuery:
        if not (self.given or self.family or self.identifiers):
            raise ValueError("a person search needs a given or a family name, or an identifier")
        if self.date_of_birth and (self.age_from is not None or self.age_to is not None):
            raise ValueError("give a date of birth or an age range, not both")
        BirthDate.parse(self.date_of_birth)  # a real date
        self.area()  # a real postcode, sector or outward code
        return self

    def area(self) -> tuple[str, str] | None:
        """("postcode" | "sector" | "outward", canonical text) of the typed postcode, None if none.

        Raises ``ValueError`` if it is not a UK postcode, sector or outward code.
        """
        from polestar.search.locations import postcode_level  # noqa: PLC0415 - locations imports this module

        return postcode_level(self.postcode)

    def born(self, today: date | None = None) -> BirthDate:
        """The date of birth the query allows."""
        if self.date_of_birth:
            return BirthDate.parse(self.date_of_birth)
        if self.age_from is None and self.age_to is None:
            return BirthDate()
        today = today or local_today()
        oldest = self.age_to if self.age_to is not None else 120
        youngest = self.age_from or 0
        earliest = _years_before(today, oldest + 1)
        latest = _years_before(today, youngest)
        return BirthDate.between(earliest, latest)


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class PersonMatch(BaseModel):
    """One ranked result: the record, its score in bits, its band and why each field matched."""

    model_config = ConfigDict(frozen=True)

    person_id: str
    score: float
    band: Band
    matched_name: str = Field(description="The name or alias that matched best.")
    swapped: bool = Field(default=False, description="True if given and family names were typed swapped.")
    fields: tuple[FieldMatch, ...] = ()
