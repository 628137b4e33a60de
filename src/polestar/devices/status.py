"""Unit status from a device: checked for order per incident and unit, then published on the bus.

A device numbers its status updates per incident (1, 2, 3...). The desk
accepts exactly the next number; the same number again with the same status
is a repeat (answered as before, nothing published twice); anything else is
refused with ``SequenceConflict`` naming the sequence expected and the one got.

The last sequence of each incident and unit is learned from the bus (the last
``memory_hours`` of it) the first time this hub process sees a later update of
the incident (status events are published on ``<event_type>.<incident>``, so
that is one subject's history), and then kept in memory. A route carries the
events to CAD, which refuses out-of-order sequences too: two hub processes
racing cannot reorder what CAD applies.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from polestar.bus.contract import BusEngine
from polestar.devices.config import StatusConfig
from polestar.errors import BusUnavailable, PolestarError
from polestar.model.envelope import Envelope, schema_urn
from polestar.model.event_codes import IncidentStatus
from polestar.model.incidents import UnitStatusReport
from polestar.model.registry import SCHEMA_VERSIONS, schema_name_of
from polestar.model.timeutil import utcnow

INCIDENT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""An incident reference the hub can use as a subject token."""
_REPORT = schema_name_of(UnitStatusReport)
REPORT_SCHEMA = schema_urn(_REPORT, SCHEMA_VERSIONS[_REPORT])
"""The ``dataschema`` of a status event: the canonical ``unit-status-report``."""


class StatusReport(BaseModel):
    """``POST /api/incidents/{incident}/status``: a unit's status from its device."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    callSign: str = Field(  # noqa: N815 - the device API's own field names are camelCase
        min_length=1, max_length=16, pattern=r"^[A-Za-z0-9]+$", examples=["CX21"]
    )
    status: str = Field(min_length=1, max_length=16, examples=["ENROUTE"])
    sequence: int = Field(ge=1, le=1_000_000, description="Per incident: 1 for the first update, then +1.")


class StatusAccepted(BaseModel):
    """The hub's receipt for a status update."""

    model_config = ConfigDict(extra="forbid")

    incident: str
    callSign: str  # noqa: N815 - the device API's own field names are camelCase
    status: str = Field(description="The canonical status.", examples=["en-route"])
    sequence: int
    eventId: str = Field(description="The bus event that carries it to CAD.")  # noqa: N815
    duplicate: bool = Field(description="True when this update had been accepted before.")


class StatusError(PolestarError):
    """A status update was not accepted."""


class UnknownStatus(StatusError):  # noqa: N818 - reads as the refusal
    """The status word is not one the configuration knows."""


class SequenceConflict(StatusError):  # noqa: N818 - reads as the refusal (HTTP 409 Conflict)
    """The sequence is not the next one for this incident and unit."""

    def __init__(self, message: str, *, expected: int, got: int) -> None:
        super().__init__(message)
        self.expected, self.got = expected, got


@dataclass(slots=True)
class _Accepted:
    sequence: int
    status: str
    event_id: str


class StatusDesk:
    """Orders status updates per incident and unit and publishes them as canonical events."""

    def __init__(self, config: StatusConfig, bus: Callable[[], BusEngine | None]) -> None:
        self.config = config
        self._bus = bus
        self._last: dict[tuple[str, str], _Accepted] = {}
        self._known: set[str] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def subject_for(self, incident: str) -> str:
        """The bus subject of ``incident``'s status events."""
        return f"{self.config.event_type}.{incident}"

    async def report(
        self, incident: str, report: StatusReport, *, device: str | None, officer: str | None
    ) -> StatusAccepted:
        """Accept, repeat or refuse one update; the event is durable on the bus when this returns."""
        word = report.status.upper().replace("-", "").replace(" ", "").replace("_", "")
        status = self.config.statuses.get(word)
        if status is None:
            raise UnknownStatus(f"status {report.status!r} is not one of {sorted(self.config.statuses)}")
        bus = self._bus()
        if bus is None:
            raise BusUnavailable("the bus is not connected; send the status again shortly")
        call_sign = report.callSign.upper()
        lock = self._locks.setdefault(incident, asyncio.Lock())
        async with lock:
            if incident not in self._known and report.sequence != 1:
                # A first update needs no history: a repeat of it is caught by the bus's
                # idempotency key and by CAD. Any later one is checked against the bus.
                await self._learn(bus, incident)
            key = (incident, call_sign)
            last = self._last.get(key)
            expected = 1 if last is None else last.sequence + 1
            if last is not None and report.sequence == last.sequence and status == last.status:
                return StatusAccepted(
                    incident=incident,
                    callSign=call_sign,
                    status=status,
                    sequence=report.sequence,
                    eventId=last.event_id,
                    duplicate=True,
                )
            if report.sequence != expected:
                raise SequenceConflict(
                    f"status for {incident} from {call_sign} is out of order: expected sequence "
                    f"{expected}, got {report.sequence}",
                    expected=expected,
                    got=report.sequence,
                )
            envelope = Envelope(
                source=f"/devices/{device or call_sign}",
                type=self.config.event_type,
                subject=incident,
                partitionkey=incident,
                purpose=self.config.purpose,
                actor=f"user:{officer}" if officer else (f"device:{device}" if device else None),
                dataschema=REPORT_SCHEMA,
                data=UnitStatusReport(
                    incident=incident,
                    call_sign=call_sign,
                    status=IncidentStatus(status),
                    sequence=report.sequence,
                    reported_at=utcnow(),
                    device=device,
                ).model_dump(mode="json", exclude_none=True),
            )
            ack = await bus.publish(
                envelope,
                subject=self.subject_for(incident),
                idempotency_key=f"status:{incident}:{call_sign}:{report.sequence}",
            )
            self._last[key] = _Accepted(report.sequence, status, envelope.id)
            return StatusAccepted(
                incident=incident,
                callSign=call_sign,
                status=status,
                sequence=report.sequence,
                eventId=envelope.id,
                duplicate=ack.duplicate,
            )

    async def _learn(self, bus: BusEngine, incident: str) -> None:
        since = utcnow() - timedelta(hours=self.config.memory_hours)
        async for message in bus.read(from_time=since, subjects=(self.subject_for(incident),)):
            data = message.envelope.data or {}
            try:
                key = (incident, str(data["call_sign"]).upper())
                accepted = _Accepted(int(data["sequence"]), str(data["status"]), message.envelope.id)
            except (KeyError, TypeError, ValueError):
                continue
            current = self._last.get(key)
            if current is None or accepted.sequence > current.sequence:
                self._last[key] = accepted
        self._known.add(incident)
