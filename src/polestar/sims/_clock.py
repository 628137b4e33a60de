"""Wall-clock time as the simulated systems keep it: UK local time, no zone, to the second."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

Clock = Callable[[], datetime]
"""Returns the current local (Europe/London) wall-clock time, naive."""


def london_now() -> datetime:
    """Now in London, naive, whole seconds."""
    return datetime.now(LONDON).replace(tzinfo=None, microsecond=0)


def local_iso(moment: datetime) -> str:
    """``2026-11-23T21:07:55``: the CAD's timestamp format."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S")
