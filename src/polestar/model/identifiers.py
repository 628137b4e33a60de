"""Identifiers validated by their real formats, and canonicalised before anyone matches on them.

Each identifier has a plain function (``canonical_pnc_id("79/163001B")``) that
returns the canonical form or raises ``ValueError`` saying what is wrong, and an
``Annotated`` type for pydantic fields (``PncId``) built on it.

The PNC and CRO check characters follow the rules HMPPS publishes in its
person-record service: the check character is the remainder, modulo 23, of the
number formed by the two-digit year followed by the serial, indexed into
``ZABCDEFGHJKLMNPQRTUVWXY``.
"""

from __future__ import annotations

import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, Field

from polestar.model.timeutil import local_today

CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"
"""The 23 letters PNC and CRO check characters are drawn from (no I, O or S)."""


def check_letter(number: int) -> str:
    """The PNC/CRO check character for ``number`` (year digits followed by the serial)."""
    return CHECK_LETTERS[number % len(CHECK_LETTERS)]


def _compact(value: str) -> str:
    return re.sub(r"[\s-]+", "", value).upper()


# --- PNC ID ---------------------------------------------------------------------------------------

_PNC_WITH_SLASH = re.compile(r"^(?P<year>\d{2}|\d{4})/(?P<serial>\d{1,7})(?P<check>[A-Z])$")
_PNC_LONG_BARE = re.compile(r"^(?P<year>\d{4})(?P<serial>\d{7})(?P<check>[A-Z])$")
_PNC_SHORT_BARE = re.compile(r"^(?P<year>\d{2})(?P<serial>\d{1,7})(?P<check>[A-Z])$")


def _pnc_century(two_digits: int) -> int:
    # As HMPPS do: years up to this one are this century, later ones the last.
    this_year = local_today().year
    century = this_year - this_year % 100
    return century + two_digits if two_digits <= this_year % 100 else century - 100 + two_digits


def canonical_pnc_id(value: str) -> str:
    """The long form ``YYYY/NNNNNNNA`` of a PNC ID given in long or short form.

    Accepts ``YYYY/N..NA``, ``YY/N..NA`` and the same without the slash (a bare
    12-character value is read as the long form). The serial is zero-padded to 7.
    """
    compact = _compact(value)
    match = _PNC_WITH_SLASH.match(compact) or _PNC_LONG_BARE.match(compact)
    if match is None and len(compact) < 12:
        match = _PNC_SHORT_BARE.match(compact)
    if match is None:
        raise ValueError(f"PNC ID {value!r} is not in the form YYYY/NNNNNNNA or YY/NNNNNNNA")
    year_text, serial, given = match.group("year"), match.group("serial").zfill(7), match.group("check")
    year = int(year_text) if len(year_text) == 4 else _pnc_century(int(year_text))
    if year > local_today().year:
        raise ValueError(f"PNC ID {value!r} has year {year}, which is in the future")
    expected = check_letter(int(f"{year % 100:02d}{serial}"))
    if given != expected:
        raise ValueError(f"PNC ID {value!r} has check character {given!r} but should be {expected!r}")
    return f"{year:04d}/{serial}{given}"


# --- CRO number -----------------------------------------------------------------------------------

_CRO_STANDARD = re.compile(r"^(?P<serial>\d{1,6})/(?P<year>\d{2})(?P<check>[A-Z])$")
_CRO_SF = re.compile(r"^SF(?P<year>\d{2})/(?P<serial>\d{1,6})(?P<check>[A-Z])$")


def canonical_cro_number(value: str) -> str:
    """The canonical form of a CRO number: ``NNNNNN/YYA`` (serial padded) or ``SFYY/NNNNNNA``.

    In the standard form the check is computed on the year and the serial padded
    to six digits; in the SF (fingerprint) form on the year and the serial as
    written, which is why an SF serial is never padded.
    """
    compact = _compact(value)
    if match := _CRO_SF.match(compact):
        year, serial, given = match.group("year"), match.group("serial"), match.group("check")
        canonical = f"SF{year}/{serial}{given}"
        expected = check_letter(int(year + serial))
    elif match := _CRO_STANDARD.match(compact):
        year, serial, given = match.group("year"), match.group("serial").zfill(6), match.group("check")
        canonical = f"{serial}/{year}{given}"
        expected = check_letter(int(year + serial))
    else:
        raise ValueError(f"CRO number {value!r} is not in the form NNNNNN/YYA or SFYY/NNNNNNA")
    if given != expected:
        raise ValueError(f"CRO number {value!r} has check character {given!r} but should be {expected!r}")
    return canonical


# --- DVLA driving licence -------------------------------------------------------------------------

_LICENCE = re.compile(
    r"^(?P<surname>[A-Z9]{5})(?P<decade>\d)(?P<month>\d{2})(?P<day>\d{2})(?P<year>\d)"
    r"(?P<initials>[A-Z9]{2})(?P<digit>\d)(?P<check>[A-Z0-9]{2})$"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def canonical_driving_licence(value: str) -> str:
    """A DVLA (Great Britain) driving licence number: 16 characters, upper case, no spaces.

    Layout: 5 characters of surname padded with 9s; decade of birth; month of
    birth (plus 50 for women); day; year digit; two initials padded with 9;
    one digit; two check characters.
    """
    compact = _compact(value)
    match = _LICENCE.match(compact)
    if match is None:
        raise ValueError(
            f"driving licence {value!r} is not a 16-character DVLA number (e.g. 'MORGA753116SM9IJ')"
        )
    if not re.match(r"^[A-Z]+9*$", match.group("surname")):
        raise ValueError(f"driving licence {value!r} must start with surname letters padded by 9s")
    if not re.match(r"^[A-Z][A-Z9]$", match.group("initials")):
        raise ValueError(f"driving licence {value!r} has initials {match.group('initials')!r}")
    month = int(match.group("month"))
    month = month - 50 if month > 50 else month
    if not 1 <= month <= 12:
        raise ValueError(f"driving licence {value!r} has birth month {match.group('month')!r}")
    day = int(match.group("day"))
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1]:
        raise ValueError(f"driving licence {value!r} has birth day {match.group('day')!r}")
    return compact


# --- Passport, National Insurance -----------------------------------------------------------------


def canonical_uk_passport(value: str) -> str:
    """A UK passport number: nine digits."""
    compact = _compact(value)
    if not re.fullmatch(r"\d{9}", compact):
        raise ValueError(f"UK passport number {value!r} must be 9 digits")
    return compact


def canonical_passport(value: str) -> str:
    """Any state's passport number: 5 to 20 letters and digits (ICAO allows up to 9 in the MRZ)."""
    compact = _compact(value)
    if not re.fullmatch(r"[A-Z0-9]{5,20}", compact):
        raise ValueError(f"passport number {value!r} must be 5-20 letters and digits")
    return compact


NINO_DISALLOWED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})
"""Prefixes HMRC never allocates."""

_NINO = re.compile(r"^(?P<prefix>[A-Z]{2})\d{6}(?P<suffix>[A-Z])$")


def canonical_nino(value: str) -> str:
    """A National Insurance number: two prefix letters, six digits, suffix A-D (``AB123456C``).

    HMRC never uses D, F, I, Q, U or V as either prefix letter, nor O as the
    second, nor the prefixes BG, GB, KN, NK, NT, TN and ZZ.
    """
    compact = _compact(value)
    match = _NINO.match(compact)
    if match is None:
        raise ValueError(f"National Insurance number {value!r} is not of the form AB123456C")
    prefix, suffix = match.group("prefix"), match.group("suffix")
    if prefix[0] in "DFIQUV" or prefix[1] in "DFIQUVO":
        reason = f"has prefix {prefix!r}, which uses a letter HMRC never does"
    elif prefix in NINO_DISALLOWED_PREFIXES:
        reason = f"has prefix {prefix!r}, which HMRC never allocates"
    elif suffix not in "ABCD":
        reason = f"has suffix {suffix!r}; it must be A, B, C or D"
    else:
        return compact
    raise ValueError(f"National Insurance number {value!r} {reason}")


def nino_display(nino: str) -> str:
    """A canonical NINO as printed on letters: ``AB 12 34 56 C``."""
    return f"{nino[:2]} {nino[2:4]} {nino[4:6]} {nino[6:8]} {nino[8:]}"


# --- Devices, vehicles ----------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """True when a string of digits passes the Luhn (mod 10) check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def canonical_imei(value: str) -> str:
    """A 15-digit IMEI whose last digit is its Luhn check digit."""
    compact = re.sub(r"[\s/.-]+", "", value)
    if not re.fullmatch(r"\d{15}", compact):
        raise ValueError(f"IMEI {value!r} must be 15 digits")
    if not luhn_valid(compact):
        raise ValueError(f"IMEI {value!r} fails its Luhn check digit")
    return compact


def canonical_vin(value: str) -> str:
    """A 17-character vehicle identification number (ISO 3779): no I, O or Q."""
    compact = _compact(value)
    if len(compact) != 17 or not compact.isalnum() or not compact.isascii():
        raise ValueError(f"VIN {value!r} must be 17 letters and digits")
    if bad := sorted(set(compact) & set("IOQ")):
        raise ValueError(f"VIN {value!r} contains {', '.join(bad)}, which VINs never use")
    return compact


# --- Postcode, UPRN, phone, email, offence codes --------------------------------------------------

_POSTCODE = re.compile(
    r"^(?:GIR0AA|"
    r"(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def canonical_postcode(value: str) -> str:
    """A UK postcode, upper case with one space before the inward code (``SW1A 1AA``)."""
    compact = re.sub(r"\s+", "", value).upper()
    if not _POSTCODE.match(compact):
        raise ValueError(f"postcode {value!r} is not a valid UK postcode")
    return f"{compact[:-3]} {compact[-3:]}"


def canonical_phone(value: str, region: str = "GB") -> str:
    """A telephone number in E.164 (``+447911123456``); national numbers are read as UK ones."""
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"phone number {value!r} cannot be read: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(f"phone number {value!r} is not a valid number for its country")
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def canonical_email(value: str) -> str:
    """An email address (ASCII, addr-spec without quoting); the domain is lower-cased."""
    text = value.strip()
    if len(text) > 254 or not _EMAIL.match(text) or ".." in text:
        raise ValueError(f"email address {value!r} is not a valid address")
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


_OFFENCE = re.compile(r"^(?P<cls>\d{1,3})(?P<letter>[A-Z]?)/(?P<sub>\d{1,2})$")


def canonical_offence_code(value: str) -> str:
    """A Home Office offence classification code, padded as ``NNN/NN`` (``8/1`` -> ``008/01``)."""
    match = _OFFENCE.match(_compact(value))
    if match is None:
        raise ValueError(f"Home Office offence code {value!r} is not of the form NNN/NN, e.g. '008/01'")
    return f"{int(match.group('cls')):03d}{match.group('letter')}/{int(match.group('sub')):02d}"


# --- Annotated types ---------------------------------------------------------------------------
# Each type validates leniently in Python (any spacing, any case) and stores the
# canonical form; the JSON Schema ``pattern`` describes that canonical form, as
# it travels on the bus, so consumers in other languages can check it too.

CANONICAL_POSTCODE_PATTERN = (
    r"^(?:GIR 0AA|(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
    r" [0-9][ABD-HJLNP-UW-Z]{2})$"
)
"""The canonical postcode, as a JSON Schema pattern."""


PncId = Annotated[
    str,
    AfterValidator(canonical_pnc_id),
    Field(
        description="PNC ID, canonical long form YYYY/NNNNNNNA.",
        examples=["1979/0163001B"],
        json_schema_extra={"pattern": r"^\d{4}/\d{7}[A-HJ-NP-RT-Z]$"},
    ),
]
CroNumber = Annotated[
    str,
    AfterValidator(canonical_cro_number),
    Field(
        description="CRO number, NNNNNN/YYA or SFYY/NNNNNNA.",
        examples=["265416/21G", "SF05/482703J"],
        json_schema_extra={"pattern": r"^(?:\d{6}/\d{2}|SF\d{2}/\d{1,6})[A-HJ-NP-RT-Z]$"},
    ),
]
DrivingLicenceNumber = Annotated[
    str,
    AfterValidator(canonical_driving_licence),
    Field(
        description="DVLA driving licence number.",
        examples=["MORGA753116SM9IJ"],
        json_schema_extra={"pattern": r"^[A-Z][A-Z9]{4}\d[0156]\d[0-3]\d\d[A-Z][A-Z9]\d[A-Z0-9]{2}$"},
    ),
]
NationalInsuranceNumber = Annotated[
    str,
    AfterValidator(canonical_nino),
    Field(
        description="National Insurance number, no spaces.",
        examples=["AB123456C"],
        json_schema_extra={
            "pattern": r"^(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$"
        },
    ),
]
Imei = Annotated[
    str,
    AfterValidator(canonical_imei),
    Field(
        description="15-digit IMEI with a valid Luhn check digit.",
        examples=["490154203237518"],
        json_schema_extra={"pattern": r"^\d{15}$"},
    ),
]
Vin = Annotated[
    str,
    AfterValidator(canonical_vin),
    Field(
        description="17-character VIN (no I, O or Q).",
        examples=["WVWZZZ1JZXW000001"],
        json_schema_extra={"pattern": r"^[A-HJ-NPR-Z0-9]{17}$"},
    ),
]
UkPostcode = Annotated[
    str,
    AfterValidator(canonical_postcode),
    Field(
        description="UK postcode, upper case, one space.",
        examples=["SW1A 2AA", "M1 1AE"],
        json_schema_extra={"pattern": CANONICAL_POSTCODE_PATTERN},
    ),
]
Uprn = Annotated[
    str,
    Field(
        pattern=r"^\d{1,12}$",
        description="Unique Property Reference Number (OS AddressBase): 1 to 12 digits.",
        examples=["100023336956"],
    ),
]
PhoneNumber = Annotated[
    str,
    AfterValidator(canonical_phone),
    Field(
        description="Telephone number in E.164.",
        examples=["+447911123456", "+442079460018"],
        json_schema_extra={"pattern": r"^\+[1-9]\d{1,14}$"},
    ),
]
EmailAddress = Annotated[
    str,
    AfterValidator(canonical_email),
    Field(description="Email address.", examples=["j.smith@example.org"]),
]
OffenceCode = Annotated[
    str,
    AfterValidator(canonical_offence_code),
    Field(
        description="Home Office offence classification code NNN/NN.",
        examples=["008/01", "105/01"],
        json_schema_extra={"pattern": r"^\d{3}[A-Z]?/\d{2}$"},
    ),
]
