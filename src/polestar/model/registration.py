"""Vehicle registration marks: the UK formats since 1903, and foreign plates with their country.

A mark is stored twice: ``mark``, upper case without spaces, for matching
(``AB12CDE``); and ``display``, as it is shown on a plate (``AB12 CDE``).
UK marks are classified by format, which also checks them:

==================  ===============  ==========================================
format              example          rule
==================  ===============  ==========================================
current (2001-)     ``AB12 CDE``     2 area letters, 2 age digits, 3 letters
prefix (1983-2001)  ``A123 BCD``     year letter, 1-3 digits, 3 letters
suffix (1963-1983)  ``ABC 123D``     3 letters, 1-3 digits, year letter
Northern Ireland    ``ABZ 1234``     optional letter, 2-letter code with I or Z, 1-4 digits
dateless            ``ABC 123``      1-3 letters and 1-4 digits, either way round
==================  ===============  ==========================================
"""

from __future__ import annotations

import re
from typing import Any, Self

from pydantic import Field, model_validator

from polestar.model.codes import CodeList
from polestar.model.common import PolestarModel
from polestar.model.countries import UNITED_KINGDOM, CountryCode


class RegistrationFormat(CodeList):
    """The format of a vehicle registration mark (DVLA, 'INF104'), or foreign."""

    CURRENT = "current", "Current format since September 2001: AB12 CDE."
    PREFIX = "prefix", "Prefix format, 1983-2001: A123 BCD."
    SUFFIX = "suffix", "Suffix format, 1963-1983: ABC 123D."
    DATELESS = "dateless", "Dateless format, before 1963 (now cherished marks): ABC 123 or 123 ABC."
    NORTHERN_IRELAND = "northern-ireland", "Northern Ireland format: ABZ 1234."
    FOREIGN = "foreign", "A plate issued outside the UK."


# Age-related letters never used: I, O, Q, U, Z (prefix/suffix year letters).
_YEAR_LETTER = "[A-HJ-NPR-TV-Y]"
_CURRENT = re.compile(r"^(?P<a>[A-HJ-PR-Y]{2}[0-9]{2})(?P<b>[A-HJ-PR-Z]{3})$")
_PREFIX = re.compile(rf"^(?P<a>{_YEAR_LETTER}[1-9][0-9]{{0,2}})(?P<b>[A-HJ-PR-Z]{{3}})$")
_SUFFIX = re.compile(rf"^(?P<a>[A-HJ-PR-Z]{{3}})(?P<b>[1-9][0-9]{{0,2}}{_YEAR_LETTER})$")
_NI_CODES = frozenset(
    {
        "AZ", "BZ", "CZ", "DZ", "EZ", "FZ", "GZ", "HZ", "IA", "IB", "IG", "IJ", "IL", "IW", "JI", "JZ", "KZ",
        "LZ", "MZ", "NZ", "OI", "OZ", "PZ", "RZ", "SZ", "TZ", "UI", "UZ", "VZ", "WZ", "XI", "XZ", "YZ",
    }
)  # fmt: skip
"""The two-letter Northern Ireland codes (each has an I or a Z, never used in Great Britain)."""
_NORTHERN_IRELAND = re.compile(rf"^(?P<a>[A-Z]?(?:{'|'.join(sorted(_NI_CODES))}))(?P<b>[1-9][0-9]{{0,3}})$")
_DATELESS = re.compile(
    r"^(?:(?P<a>[A-Z]{1,3})(?P<b>[1-9][0-9]{0,3})|(?P<c>[1-9][0-9]{0,3})(?P<d>[A-Z]{1,3}))$"
)

_UK_FORMATS = (
    (RegistrationFormat.CURRENT, _CURRENT),
    (RegistrationFormat.PREFIX, _PREFIX),
    (RegistrationFormat.SUFFIX, _SUFFIX),
    (RegistrationFormat.NORTHERN_IRELAND, _NORTHERN_IRELAND),
    (RegistrationFormat.DATELESS, _DATELESS),
)


def normalise_mark(value: str) -> str:
    """Upper case, letters and digits only: the form marks are matched in."""
    return re.sub(r"[^A-Z0-9]", "", value.upper())


def classify_uk_mark(value: str) -> tuple[RegistrationFormat, str]:
    """The format of a UK mark and its display form; ``ValueError`` if it fits none."""
    mark = normalise_mark(value)
    for fmt, pattern in _UK_FORMATS:
        if match := pattern.match(mark):
            parts = [p for p in match.groups() if p]
            return fmt, " ".join(parts)
    raise ValueError(
        f"registration mark {value!r} is not a valid UK mark (current AB12 CDE, prefix A123 BCD, "
        "suffix ABC 123D, dateless ABC 123 or Northern Ireland ABZ 1234); "
        "give 'country' for a foreign plate"
    )


class VehicleRegistration(PolestarModel):
    """A registration mark with the country that issued it.

    Send ``mark`` (any spacing) and ``country``; ``mark``, ``display`` and
    ``format`` are derived for UK marks. A bare string is read as a UK mark.
    For a foreign plate, ``display`` keeps the plate's own spelling if given.
    """

    country: CountryCode = Field(default=UNITED_KINGDOM, description="Issuing country.")
    mark: str = Field(
        pattern=r"^[A-Z0-9]{1,15}$",
        description="The mark upper case without spaces or punctuation, for matching.",
        examples=["AB12CDE"],
    )
    display: str = Field(
        min_length=1,
        max_length=24,
        description="The mark as shown on the plate.",
        examples=["AB12 CDE", "M-AB 1234"],
    )
    format: RegistrationFormat = Field(description="Which format the mark is in.", examples=["current"])

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"mark": data}
        if not isinstance(data, dict) or not isinstance(data.get("mark"), str):
            return data
        data = dict(data)
        raw = data["mark"]
        country = data.get("country", UNITED_KINGDOM)
        if isinstance(country, str) and country.strip().upper() == UNITED_KINGDOM:
            fmt, display = classify_uk_mark(raw)
            given = data.get("format")
            if given is not None and given != fmt.value:
                raise ValueError(f"registration mark {raw!r} is in the {fmt.value} format, not {given!r}")
            data.update(mark=normalise_mark(raw), display=display, format=fmt)
        else:
            data.setdefault("display", " ".join(raw.upper().split()))
            data.update(mark=normalise_mark(raw), format=data.get("format", RegistrationFormat.FOREIGN))
        return data

    @model_validator(mode="after")
    def _foreign_is_foreign(self) -> Self:
        if self.country != UNITED_KINGDOM and self.format is not RegistrationFormat.FOREIGN:
            raise ValueError(f"a plate from {self.country} must have format 'foreign'")
        if self.country != UNITED_KINGDOM and normalise_mark(self.display) != self.mark:
            raise ValueError(f"display {self.display!r} does not match mark {self.mark!r}")
        return self
