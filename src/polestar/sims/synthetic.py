"""A seeded synthetic world shared by every simulator: people, vehicles, addresses, places.

``World.build(seed)`` is deterministic: the same seed gives the same people
with the same PNC IDs, vehicles, registrations and addresses, in every
process. Each simulator takes its slice of one world, so the same person
turns up in custody, in a CAD incident and on PNC — recorded, as real systems
record people, under a nickname, a spelling variant or a typo now and then
(``World.recorded_name``).

Identifiers are valid by construction: PNC IDs carry their check character,
registrations their age identifier, postcodes one of the six UK formats.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import Literal

from polestar.sims import _names

PNC_CHECK_CHARACTERS = "ZABCDEFGHJKLMNPQRTUVWXY"
PNC_ID_PATTERN = re.compile(r"^(\d{4})/(\d{7})([A-Z])$")
POSTCODE_PATTERN = re.compile(
    r"^(?:[A-Z]\d|[A-Z]\d\d|[A-Z]\d[A-Z]|[A-Z]{2}\d|[A-Z]{2}\d\d|[A-Z]{2}\d[A-Z]) \d[ABD-HJLNP-UW-Z]{2}$"
)
REGISTRATION_PATTERN = re.compile(r"^([A-HJ-PR-Y][A-HJ-PR-Y])(\d\d) ([A-HJ-PR-Z]{3})$")
EPOCH = datetime(2026, 11, 1, 0, 0)  # noqa: DTZ001 - local (Europe/London) wall-clock, as the sims write
"""The world's "now": generated histories end here, so a seed means the same data on any day."""


def pnc_check_character(year: int, serial: int) -> str:
    """The check character of long-form PNC ID ``year/serial``: ``YY + NNNNNNN`` modulo 23."""
    return PNC_CHECK_CHARACTERS[int(f"{year % 100:02d}{serial:07d}") % 23]


def make_pnc_id(year: int, serial: int) -> str:
    """A long-form PNC ID ``YYYY/NNNNNNNC``."""
    return f"{year:04d}/{serial:07d}{pnc_check_character(year, serial)}"


def valid_pnc_id(value: str) -> bool:
    """Whether ``value`` is a long-form PNC ID with the right check character."""
    match = PNC_ID_PATTERN.match(value.strip().upper())
    if match is None:
        return False
    return match[3] == pnc_check_character(int(match[1]), int(match[2]))


def valid_postcode(value: str) -> bool:
    """Whether ``value`` is a well-formed UK postcode (upper case, one space)."""
    return POSTCODE_PATTERN.match(value) is not None


def age_identifier(first_registered: date) -> str:
    """The two digits of a current-format registration: ``YY`` from March, ``YY+50`` from September."""
    if 3 <= first_registered.month <= 8:
        return f"{first_registered.year % 100:02d}"
    year = first_registered.year if first_registered.month >= 9 else first_registered.year - 1
    return f"{year % 100 + 50:02d}"


def valid_registration(value: str, first_registered: date | None = None) -> bool:
    """Whether ``value`` is a current-format registration (``AB12 CDE``), of that date if given."""
    match = REGISTRATION_PATTERN.match(value)
    if match is None or match[1][0] not in _names.REGISTRATION_AREAS:
        return False
    digits = int(match[2])
    if not (2 <= digits <= 49 or 51 <= digits <= 99):
        return False
    return first_registered is None or match[2] == age_identifier(first_registered)


class Variation(StrEnum):
    """How a system's record of a name differs from the person's own."""

    EXACT = "exact"
    NICKNAME = "nickname"
    SPELLING = "spelling-variant"
    TYPO = "typo"


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address in the world."""

    id: str
    number: str
    street: str
    locality: str
    town: str
    postcode: str
    latitude: float
    longitude: float
    flat: str | None = None

    @property
    def lines(self) -> list[str]:
        """The address lines, flat first, as custody writes them."""
        first = f"{self.number} {self.street}"
        return [*([self.flat] if self.flat else []), first, self.locality]


@dataclass(frozen=True, slots=True)
class Place:
    """Premises (a shop, a pub) at an address: where incidents happen."""

    id: str
    name: str
    address: Address


@dataclass(frozen=True, slots=True)
class Wanted:
    """A wanted/missing marker on PNC."""

    kind: Literal["wanted", "missing"]
    reason: str
    force: str
    since: date


@dataclass(frozen=True, slots=True)
class Person:
    """A person as they really are; systems record them with variations."""

    id: str
    given: str
    middle: tuple[str, ...]
    family: str
    sex: Literal["M", "F"]
    date_of_birth: date
    address: Address
    pnc_id: str | None = None
    warnings: tuple[str, ...] = ()
    markers: tuple[Wanted, ...] = ()
    convictions: int = 0

    @property
    def forenames(self) -> str:
        """Given and middle names, space-separated."""
        return " ".join((self.given, *self.middle))


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A registered vehicle with its keeper."""

    vrm: str
    make: str
    model: str
    colour: str
    first_registered: date
    keeper_id: str
    stolen_since: date | None = None


WARNING_SIGNALS: dict[str, str] = {
    "VI": "violent",
    "WE": "weapons",
    "FI": "firearms",
    "DR": "drugs",
    "SU": "suicidal",
    "SH": "self-harm",
    "MH": "mental health",
    "ES": "escaper",
    "CO": "contagious",
    "AG": "alleges",
    "IM": "impersonates",
    "XP": "explosives",
}
"""PNC-style warning signal codes and what they mean."""

_WANTED_REASONS = (
    "failed to appear at court (warrant)",
    "recall to prison",
    "wanted for questioning: burglary",
    "wanted for questioning: assault occasioning actual bodily harm",
    "breach of bail conditions",
)
_FORCES = ("01", "20", "43", "46", "50", "93")


_CUMULATIVE: dict[tuple[int, float], list[float]] = {}


def _weighted(rng: random.Random, items: tuple[str, ...], k: float = 8.0) -> str:
    # Zipf-like by rank: the head is common, the tail rare.
    key = (id(items), k)
    if key not in _CUMULATIVE:
        weights = [1.0 / (rank + k) for rank in range(len(items))]
        _CUMULATIVE[key] = list(itertools.accumulate(weights))
    return rng.choices(items, cum_weights=_CUMULATIVE[key])[0]


_VARIANTS: dict[str, tuple[str, ...]] = {name: group for group in _names.SPELLING_VARIANTS for name in group}


def spelling_variants(name: str) -> tuple[str, ...]:
    """The other spellings of ``name`` (empty when it has none)."""
    return tuple(v for v in _VARIANTS.get(name, ()) if v != name)


def nicknames(name: str) -> tuple[str, ...]:
    """The usual nicknames of ``name`` (empty when it has none)."""
    return _names.NICKNAMES.get(name, ())


def typo(rng: random.Random, name: str) -> str:
    """``name`` with one keying error: two letters swapped, one dropped, or one doubled."""
    if len(name) < 4:
        return name + name[-1]
    kind = rng.choice(("swap", "drop", "double"))
    i = rng.randrange(1, len(name) - 1)
    if kind == "swap":
        swapped = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
        return swapped if swapped != name else name[:i] + name[i + 1 :]
    if kind == "drop":
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i] + name[i:]


@dataclass
class World:
    """Everyone and everything the simulators share, built from one seed."""

    seed: int
    people: list[Person] = field(default_factory=list)
    vehicles: list[Vehicle] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)

    @classmethod
    def build(cls, seed: int = 2026, *, people: int = 3000, vehicles: int = 2000) -> World:
        """Generate the world for ``seed``: ``people`` people, ``vehicles`` vehicles, homes and places."""
        rng = random.Random(seed)  # noqa: S311 - synthetic data, not crypto
        world = cls(seed=seed)
        world.addresses = [_address(rng, i) for i in range(max(people // 2, 50))]
        world.places = [
            Place(id=f"P{i:05d}", name=rng.choice(_names.PREMISES), address=_address(rng, 100_000 + i))
            for i in range(max(people // 10, 20))
        ]
        serials = rng.sample(range(1, 9_999_999), people)
        world.people = [_person(rng, i, rng.choice(world.addresses), serials[i]) for i in range(people)]
        owners = rng.sample(world.people, min(vehicles, people)) + rng.choices(
            world.people, k=max(0, vehicles - people)
        )
        used: set[str] = set()
        world.vehicles = [_vehicle(rng, owner, used) for owner in owners]
        return world

    @cached_property
    def people_by_id(self) -> dict[str, Person]:
        """People by world id."""
        return {p.id: p for p in self.people}

    @cached_property
    def people_by_pnc_id(self) -> dict[str, Person]:
        """People who have a PNC record, by PNC ID."""
        return {p.pnc_id: p for p in self.people if p.pnc_id}

    @cached_property
    def vehicles_by_vrm(self) -> dict[str, Vehicle]:
        """Vehicles by registration (``AB12CDE``, no space)."""
        return {v.vrm.replace(" ", ""): v for v in self.vehicles}

    @cached_property
    def known_to_police(self) -> list[Person]:
        """People with a PNC record: the ones who recur in custody, incidents and checks."""
        return [p for p in self.people if p.pnc_id]

    def slice(self, system: str, share: float) -> list[Person]:
        """A deterministic ``share`` of the people for ``system`` (the same on every run)."""
        rng = random.Random(f"{self.seed}:slice:{system}")  # noqa: S311 - synthetic data
        return [p for p in self.people if rng.random() < share]

    def recorded_name(self, person: Person, system: str) -> tuple[str, str, Variation]:
        """(forenames, family name, how it varies) as ``system`` recorded ``person``.

        About one record in five differs: a nickname, another spelling or a typo,
        deterministically per person and system.
        """
        rng = random.Random(f"{self.seed}:{person.id}:{system}")  # noqa: S311 - synthetic data
        roll = rng.random()
        if 0.75 <= roll < 0.87 and nicknames(person.given):
            return rng.choice(nicknames(person.given)), person.family, Variation.NICKNAME
        if 0.87 <= roll < 0.95 and (spelling_variants(person.given) or spelling_variants(person.family)):
            return _respelled(rng, person)
        if roll >= 0.95:
            return _mistyped(rng, person)
        return person.forenames, person.family, Variation.EXACT


def _respelled(rng: random.Random, person: Person) -> tuple[str, str, Variation]:
    family_variants, given_variants = spelling_variants(person.family), spelling_variants(person.given)
    if family_variants and (not given_variants or rng.random() < 0.5):
        return person.forenames, rng.choice(family_variants), Variation.SPELLING
    return " ".join((rng.choice(given_variants), *person.middle)), person.family, Variation.SPELLING


def _mistyped(rng: random.Random, person: Person) -> tuple[str, str, Variation]:
    if rng.random() < 0.5:
        return person.forenames, typo(rng, person.family), Variation.TYPO
    return " ".join((typo(rng, person.given), *person.middle)), person.family, Variation.TYPO


def _postcode(rng: random.Random, outward: str) -> str:
    letters = _names.POSTCODE_INWARD_LETTERS
    return f"{outward} {rng.randint(0, 9)}{rng.choice(letters)}{rng.choice(letters)}"


def _address(rng: random.Random, index: int) -> Address:
    town, localities, lat, lon = rng.choices(
        _names.TOWNS, weights=[6 if t[0] == "London" else 1 for t in _names.TOWNS]
    )[0]
    locality, outward = rng.choice(localities)
    stem, suffix = rng.choice(_names.STREET_STEMS), rng.choice(_names.STREET_SUFFIXES)
    street = "High Street" if rng.random() < 0.05 else f"{stem} {suffix}"
    return Address(
        id=f"A{index:06d}",
        number=str(rng.randint(1, 240)),
        street=street,
        locality=locality,
        town=town,
        postcode=_postcode(rng, outward),
        latitude=round(lat + rng.uniform(-0.04, 0.04), 5),
        longitude=round(lon + rng.uniform(-0.06, 0.06), 5),
        flat=f"Flat {rng.randint(1, 12)}" if rng.random() < 0.2 else None,
    )


def _person(rng: random.Random, index: int, home: Address, serial: int) -> Person:
    sex: Literal["M", "F"] = "M" if rng.random() < 0.5 else "F"
    names = _names.MALE_GIVEN if sex == "M" else _names.FEMALE_GIVEN
    given = _weighted(rng, names)
    middle = (_weighted(rng, names),) if rng.random() < 0.45 else ()
    born = EPOCH.date() - timedelta(days=rng.randint(16 * 365, 80 * 365))
    pnc_id = warnings = None
    markers: list[Wanted] = []
    convictions = 0
    if rng.random() < 0.55:
        first_recorded = rng.randint(max(born.year + 12, 1990), EPOCH.year)
        pnc_id = make_pnc_id(first_recorded, serial)
        convictions = rng.choice((0, 0, 1, 1, 2, 3, 5, 8, 13))
        codes = list(WARNING_SIGNALS)
        warnings = tuple(sorted(rng.sample(codes, rng.choice((1, 1, 2, 3))))) if rng.random() < 0.2 else ()
        if rng.random() < 0.05:
            since = EPOCH.date() - timedelta(days=rng.randint(1, 400))
            markers.append(Wanted("wanted", rng.choice(_WANTED_REASONS), rng.choice(_FORCES), since))
    if rng.random() < 0.015:
        since = EPOCH.date() - timedelta(days=rng.randint(1, 60))
        markers.append(Wanted("missing", "reported missing from home", rng.choice(_FORCES), since))
    return Person(
        id=f"W{index:06d}",
        given=given,
        middle=middle,
        family=_weighted(rng, _names.FAMILY_NAMES, k=20.0),
        sex=sex,
        date_of_birth=born,
        address=home,
        pnc_id=pnc_id,
        warnings=warnings or (),
        markers=tuple(markers),
        convictions=convictions,
    )


def _vehicle(rng: random.Random, keeper: Person, used: set[str]) -> Vehicle:
    make, models = rng.choice(_names.MAKES_MODELS)
    while True:
        first = date(2001, 9, 1) + timedelta(days=rng.randint(0, (EPOCH.date() - date(2001, 9, 1)).days))
        area = rng.choice(_names.REGISTRATION_AREAS) + rng.choice(_names.REGISTRATION_AREAS)
        letters = "".join(rng.choice(_names.REGISTRATION_LETTERS) for _ in range(3))
        vrm = f"{area}{age_identifier(first)} {letters}"
        if vrm not in used:
            used.add(vrm)
            break
    stolen = EPOCH.date() - timedelta(days=rng.randint(1, 90)) if rng.random() < 0.02 else None
    return Vehicle(
        vrm=vrm,
        make=make,
        model=rng.choice(models),
        colour=_weighted(rng, _names.COLOURS, k=3.0),
        first_registered=first,
        keeper_id=keeper.id,
        stolen_since=stolen,
    )
