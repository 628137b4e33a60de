"""A person's search keys, from a store document or from plain fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from polestar.model.people import partial_date_bounds
from polestar.search.names import canonical, first_token, normalise, phonetic


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A date of birth as search holds it: the known parts, and the first and last possible day."""

    year: int | None = None
    month: int | None = None
    day: int | None = None
    earliest: date | None = None
    latest: date | None = None

    @classmethod
    def parse(cls, value: str | None) -> BirthDate:
        """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (or empty); raises ``ValueError`` if not a date."""
        if not value:
            return cls()
        first, last = partial_date_bounds(value)
        parts = [int(p) for p in value.split("-")]
        return cls(
            year=parts[0],
            month=parts[1] if len(parts) > 1 else None,
            day=parts[2] if len(parts) > 2 else None,
            earliest=first,
            latest=last,
        )

    @classmethod
    def between(cls, earliest: date, latest: date) -> BirthDate:
        """Only a range is known (an age band)."""
        return cls(earliest=earliest, latest=latest)

    @property
    def known(self) -> bool:
        """True if anything is known."""
        return self.year is not None or self.earliest is not None


@dataclass(frozen=True, slots=True)
class NameKeys:
    """One name a person is known by, normalised, with its blocking keys."""

    given: str
    middle: str
    family: str

    @classmethod
    def of(cls, given: str | None, family: str | None, middle: Sequence[str] = ()) -> NameKeys:
        """Keys for a name as recorded; extra given words count as middle names."""
        words = (given or "").split()
        return cls(
            given=normalise(first_token(given)),
            middle=" ".join(n for n in (normalise(w) for w in (*words[1:], *middle)) if n),
            family=normalise(family),
        )

    def row(self) -> dict[str, Any]:
        """The name columns of a key row."""
        return {
            "given": self.given[:64],
            "middle": self.middle[:128],
            "family": self.family[:64],
            "given_initial": self.given[:1],
            "family_initial": self.family[:1],
            "given_code": phonetic(self.given)[:16],
            "family_code": phonetic(self.family)[:16],
            "given_canon": canonical(self.given)[:64],
        }


@dataclass(frozen=True, slots=True)
class PersonKeys:
    """Everything search keeps for one person record."""

    person_id: str
    names: tuple[NameKeys, ...]
    born: BirthDate
    gender: str = "0"
    identifiers: tuple[tuple[str, str], ...] = ()

    def identifier_rows(self) -> list[dict[str, Any]]:
        """The rows of ``search_person_identifiers`` for this person."""
        return [
            {"person_id": self.person_id, "type": t, "value": v} for t, v in dict.fromkeys(self.identifiers)
        ]

    def rows(self) -> list[dict[str, Any]]:
        """The rows of ``search_person_keys`` for this person."""
        common = {
            "person_id": self.person_id,
            "birth_year": self.born.year,
            "birth_month": self.born.month,
            "birth_day": self.born.day,
            "born_earliest": self.born.earliest,
            "born_latest": self.born.latest,
            "gender": self.gender,
        }
        return [{**common, "seq": i, **name.row()} for i, name in enumerate(self.names)]


def keys_from_document(person_id: str, document: Mapping[str, Any]) -> PersonKeys:
    """Keys for a person as the store holds them (``Person.model_dump(mode="json")``)."""
    name = document.get("name") or {}
    names = [NameKeys.of(name.get("given"), name.get("family"), name.get("middle") or ())]
    names.extend(
        NameKeys.of(alias.get("given"), alias.get("family"), alias.get("middle") or ())
        for alias in document.get("aliases") or ()
    )
    dob = document.get("date_of_birth") or {}
    born = BirthDate()
    if dob.get("value"):
        born = BirthDate.parse(dob["value"])
    elif dob.get("earliest") and dob.get("latest"):
        born = BirthDate.between(date.fromisoformat(dob["earliest"]), date.fromisoformat(dob["latest"]))
    unique = tuple(dict.fromkeys(n for n in names if n.given or n.family))
    identifiers = tuple(
        (str(i["type"]), str(i["value"])) for i in document.get("identifiers") or () if i.get("value")
    )
    return PersonKeys(person_id, unique, born, str(document.get("gender") or "0"), identifiers)
