"""Times are stored in UTC and shown in the user's zone (Europe/London by default)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime

DISPLAY_ZONE = ZoneInfo("Europe/London")
"""The zone times are shown in unless a user chooses another."""


def to_utc(value: datetime) -> datetime:
    """Return ``value`` converted to UTC; naive times are refused, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time has no UTC offset; send it with 'Z' or '+01:00'")
    return value.astimezone(UTC)


UtcDateTime = Annotated[AwareDatetime, AfterValidator(to_utc)]
"""A timestamp that must carry an offset and is stored normalised to UTC."""


def utcnow() -> datetime:
    """The current time in UTC, the one clock every Polestar component reads."""
    return datetime.now(UTC)


def for_display(value: datetime, zone: ZoneInfo | str = DISPLAY_ZONE) -> datetime:
    """``value`` in the user's zone (Europe/London unless they chose another)."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return to_utc(value).astimezone(tz)


def local_today(zone: ZoneInfo | str = DISPLAY_ZONE) -> date:
    """Today's date in the user's zone: what "in the future" means for a date of birth."""
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return utcnow().astimezone(tz).date()


def display_text(value: datetime, zone: ZoneInfo | str = DISPLAY_ZONE) -> str:
    """``value`` as a person in the UK reads it, e.g. ``24/11/2026 14:03 GMT``."""
    return for_display(value, zone).strftime("%d/%m/%Y %H:%M %Z")
