"""Hypothesis strategies for valid identifiers and the parts every entity shares (see ``testing``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from hypothesis import strategies as st

from polestar.model import codes
from polestar.model.identifiers import NINO_DISALLOWED_PREFIXES, check_letter, luhn_valid
from polestar.model.timeutil import local_today

S = st.SearchStrategy

# --- Identifiers ----------------------------------------------------------------------------------


def _chars(alphabet: str, size: int) -> S[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size)


@st.composite
def pnc_ids(draw: st.DrawFn) -> str:
    """A PNC ID in canonical long form with a correct check character."""
    year = draw(st.integers(min_value=1974, max_value=local_today().year))
    serial = draw(st.integers(min_value=0, max_value=9_999_999))
    return f"{year}/{serial:07d}{check_letter(int(f'{year % 100:02d}{serial:07d}'))}"


@st.composite
def pnc_id_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """``(as written, canonical)``: the same PNC ID in long, short, slashless or lower-case spelling."""
    canonical = draw(pnc_ids())
    year, rest = canonical.split("/")
    serial, check = rest[:-1].lstrip("0") or "0", rest[-1]
    this_year = local_today().year
    short_ok = int(year) > this_year - 100  # the short form only names the last 100 years
    spelling = draw(
        st.sampled_from(
            [canonical, f"{year}{rest}", f"{year}/{serial}{check}"]
            + ([f"{year[2:]}/{serial}{check}", f"{year[2:]}/{rest}"] if short_ok else [])
        )
    )
    return draw(st.sampled_from([spelling, spelling.lower(), f" {spelling} "])), canonical


@st.composite
def cro_numbers(draw: st.DrawFn) -> str:
    """A CRO number in canonical standard (``NNNNNN/YYA``) or SF (``SFYY/NNNNNNA``) form."""
    year = f"{draw(st.integers(0, 99)):02d}"
    if draw(st.booleans()):
        serial = f"{draw(st.integers(1, 999_999)):06d}"
        return f"{serial}/{year}{check_letter(int(year + serial))}"
    serial = str(draw(st.integers(1, 999_999)))
    return f"SF{year}/{serial}{check_letter(int(year + serial))}"


_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"


@st.composite
def ninos(draw: st.DrawFn) -> str:
    """A National Insurance number HMRC could allocate."""
    prefix = draw(
        st.tuples(st.sampled_from(_NINO_FIRST), st.sampled_from(_NINO_SECOND))
        .map("".join)
        .filter(lambda p: p not in NINO_DISALLOWED_PREFIXES)
    )
    return f"{prefix}{draw(_chars('0123456789', 6))}{draw(st.sampled_from('ABCD'))}"


@st.composite
def driving_licences(draw: st.DrawFn, born: date | None = None) -> str:
    """A DVLA driving licence number, encoding ``born`` as its date of birth when given."""
    born = born or draw(st.dates(min_value=date(1900, 1, 1), max_value=local_today()))
    surname = draw(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=5)).ljust(5, "9")
    month = born.month + draw(st.sampled_from([0, 50]))
    initials = draw(st.sampled_from("ABCDEFGHJKLMNPRSTW")) + draw(st.sampled_from("ABCDEFGHJKLMN9"))
    year = f"{born.year:04d}"
    return (
        f"{surname}{year[2]}{month:02d}{born.day:02d}{year[3]}{initials}{draw(st.integers(0, 9))}"
        f"{draw(_chars('ABCDEFGHJKLMNPRSTUVWXYZ0123456789', 2))}"
    )


def uk_passports() -> S[str]:
    """A UK passport number: nine digits."""
    return _chars("0123456789", 9)


@st.composite
def imeis(draw: st.DrawFn) -> str:
    """A 15-digit IMEI with a correct Luhn check digit."""
    body = draw(_chars("0123456789", 14))
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


def vins() -> S[str]:
    """A 17-character VIN without I, O or Q."""
    return _chars("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", 17)


_INWARD = "ABDEFGHJLNPQRSTUWXYZ"


@st.composite
def uk_postcodes(draw: st.DrawFn) -> str:
    """A UK postcode in canonical form (``SW1A 1AA``)."""
    first = draw(st.sampled_from("ABCDEFGHIJKLMNOPRSTUWYZ"))
    second = draw(st.sampled_from("ABCDEFGHKLMNOPQRSTUVWXY"))
    digit, digit2 = draw(st.integers(0, 9)), draw(st.integers(0, 9))
    outward = draw(
        st.sampled_from(
            [
                f"{first}{digit}",
                f"{first}{digit}{digit2}",
                f"{first}{second}{digit}",
                f"{first}{second}{digit}{digit2}",
                f"{first}{digit}{draw(st.sampled_from('ABCDEFGHJKPSTUW'))}",
                f"{first}{second}{digit}{draw(st.sampled_from('ABEHMNPRVWXY'))}",
            ]
        )
    )
    return f"{outward} {draw(st.integers(0, 9))}{draw(_chars(_INWARD, 2))}"


_MARK_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
_YEAR_LETTERS = "ABCDEFGHJKLMNPRSTVWXY"


@st.composite
def uk_marks(draw: st.DrawFn) -> str:
    """A valid UK registration mark in display form: current, prefix, suffix, NI or dateless."""

    def letters(alphabet: str, n: int) -> str:
        return draw(_chars(alphabet, n))

    number = draw(st.integers(1, 999))
    kind = draw(st.sampled_from(["current", "prefix", "suffix", "northern-ireland", "dateless"]))
    if kind == "current":
        return f"{letters(_MARK_LETTERS[:-1], 2)}{draw(st.integers(2, 99)):02d} {letters(_MARK_LETTERS, 3)}"
    if kind == "prefix":
        return f"{letters(_YEAR_LETTERS, 1)}{number} {letters(_MARK_LETTERS, 3)}"
    if kind == "suffix":
        return f"{letters(_MARK_LETTERS, 3)} {number}{letters(_YEAR_LETTERS, 1)}"
    if kind == "northern-ireland":
        return f"{draw(st.sampled_from(['A', 'B', '']))}{draw(st.sampled_from(['AZ', 'IA', 'OI']))} {number}"
    return f"{draw(st.text(alphabet='ABCDEFGH', min_size=1, max_size=3))} {number}"


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    """A valid UK mobile or London number in E.164."""
    number = draw(
        st.one_of(
            _chars("0123456789", 7).map(lambda d: f"+44791{d}"),
            _chars("0123456789", 4).map(lambda d: f"+44207946{d}"),
        ).filter(lambda n: phonenumbers.is_valid_number(phonenumbers.parse(n)))
    )
    return str(number)


def emails() -> S[str]:
    """A plain email address."""
    return st.from_regex(r"[a-z0-9][a-z0-9_+-]{0,12}@[a-z0-9]{1,12}\.(?:org|uk|com)", fullmatch=True)


# --- Common parts ---------------------------------------------------------------------------------

_ZONES = st.sampled_from([UTC, ZoneInfo("Europe/London")])


def times() -> S[datetime]:
    """An aware timestamp between 2000 and 2030, in UTC or Europe/London."""
    # Hypothesis takes naive bounds; timezones= makes every value aware.
    low, high = datetime(2000, 1, 1), datetime(2030, 1, 1)  # noqa: DTZ001
    return st.datetimes(min_value=low, max_value=high, timezones=_ZONES)


def utc_times() -> S[datetime]:
    """Like :func:`times`, but in UTC, for arithmetic (wall-clock sums in London cross DST wrongly)."""
    return times().map(lambda t: t.astimezone(UTC))


def texts(max_size: int = 60) -> S[str]:
    """A short non-blank text."""
    return st.text(min_size=1, max_size=max_size).filter(lambda s: bool(s.strip()))


def references() -> S[str]:
    """A reference number another system might give."""
    return st.from_regex(r"[A-Z0-9][A-Z0-9/-]{0,15}", fullmatch=True)


def code(code_list: type[codes.CodeList]) -> S[str]:
    """Any value of a code list, as it is sent on the wire."""
    return st.sampled_from([m.value for m in code_list])


def codes_tuple(code_list: type[codes.CodeList], min_size: int = 0) -> S[list[str]]:
    """Distinct values of a code list."""
    return st.lists(code(code_list), min_size=min_size, max_size=3, unique=True)


def markings() -> S[str]:
    """A protective marking label."""
    return st.sampled_from(
        ["OFFICIAL", "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE [PERSONAL]", "SECRET", "SECRET [UK EYES ONLY]"]
    )


@st.composite
def provenances(draw: st.DrawFn) -> dict[str, Any]:
    """Provenance as it arrives on the wire."""
    recorded = draw(utc_times())
    observed = draw(st.none() | st.integers(0, 86_400).map(lambda s: recorded - timedelta(seconds=s)))
    return {
        "organisation": draw(st.sampled_from(["01", "20", "48", "HMPPS"])),
        "system": draw(st.sampled_from(["custody", "cad", "crime-recording", "pnc"])),
        "reference": draw(st.none() | references()),
        "observed_at": observed,
        "recorded_at": recorded,
    }


@st.composite
def entity_base(draw: st.DrawFn) -> dict[str, Any]:
    """The fields every entity has."""
    return {
        "id": draw(st.uuids().map(str)),
        "version": draw(st.integers(1, 50)),
        "provenance": draw(provenances()),
        "marking": draw(markings()),
    }


@st.composite
def officers(draw: st.DrawFn) -> dict[str, Any]:
    """An officer as PACE identifies one."""
    return {
        "identifier": draw(st.from_regex(r"(?:PC|DC)?[0-9]{3,6}", fullmatch=True)),
        "force": draw(st.sampled_from(["01", "20", "48"])),
        "name": draw(st.none() | texts()),
    }


def past_dates() -> S[date]:
    """A date between 1900 and today."""
    return st.dates(min_value=date(1900, 1, 1), max_value=local_today())
