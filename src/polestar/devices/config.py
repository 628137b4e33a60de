"""Configuration of the device gateway: which connector answers checks, how dispatches and status move.

It lives in the integration folder as ``devices/*.yaml`` under one top-level
``devices:`` key (only one file may carry it)::

    devices:
      checks:
        person_connector: pnc
        vehicle_connector: pnc
        timeout: 5
        breaker: {failure_threshold: 3, window: 30, open_seconds: 5}
      dispatch:
        subjects: [incident.unit.assigned]
      status:
        event_type: incident.unit.status.reported

The connectors named are ordinary outbound connectors from ``connectors/``;
which system answers a check is this file, not code.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from polestar.bus.contract import check_filter, check_subject
from polestar.config.yaml_document import YamlProblem, read_yaml_document
from polestar.errors import ConfigError
from polestar.mapping.loader import location
from polestar.model.envelope import check_event_type
from polestar.model.event_codes import IncidentStatus
from polestar.routes.config import CircuitBreakerConfig

DEVICES_FOLDER = "devices"

DEFAULT_REASON_CODES: dict[str, str] = {
    "1": "stop and search",
    "2": "person check on the street",
    "3": "road traffic / vehicle check",
    "4": "investigation of crime",
    "5": "custody reception",
    "6": "missing person enquiry",
    "7": "warrant / wanted check",
    "8": "intelligence",
    "9": "licensing and vetting",
}
"""The national enquiry reason codes a check must give one of (the PNC's own list)."""

ConnectorName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChecksConfig(_Config):
    """Person and vehicle checks: asked of a national system over request/reply."""

    person_connector: ConnectorName = Field(
        description="Outbound connector that answers person checks (a SOAP PNC connector).", examples=["pnc"]
    )
    vehicle_connector: ConnectorName = Field(
        description="Outbound connector that answers vehicle checks.", examples=["pnc"]
    )
    system: str = Field(
        default="PNC",
        min_length=1,
        max_length=40,
        description="The system's name as officers know it, in answers such as 'PNC unavailable'.",
    )
    namespace: str = Field(default="urn:pnc:enquiry:1", description="XML namespace of the enquiry elements.")
    person_element: str = Field(default="PersonEnquiry", description="Element of a person enquiry.")
    vehicle_element: str = Field(default="VehicleEnquiry", description="Element of a vehicle enquiry.")
    terminal: str = Field(
        default="POLESTAR", max_length=32, description="Terminal id sent with every enquiry."
    )
    timeout: float = Field(
        default=5.0, gt=0, le=60, description="Seconds a check waits for the answer before failing."
    )
    breaker: CircuitBreakerConfig = Field(
        default_factory=lambda: CircuitBreakerConfig(failure_threshold=3, window=30, open_seconds=10),
        description="Stop asking a system that keeps failing; answer 503 at once until it half-opens.",
    )
    reason_codes: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_REASON_CODES),
        min_length=1,
        description="Reason codes a check may give, with their meaning (recorded as the purpose).",
    )


class DispatchConfig(_Config):
    """Incidents pushed to the devices of the units assigned to them."""

    subjects: tuple[str, ...] = Field(
        default=("incident.unit.assigned",),
        min_length=1,
        description="Bus subjects whose events are dispatches (incident data with assigned_units).",
    )
    call_signs: dict[str, str] = Field(
        default_factory=dict,
        description="Device id to the call sign of the unit it rides with.",
        examples=[{"IVMA-CX21": "CX21"}],
    )
    call_sign_pattern: str = Field(
        default=r"(?P<call_sign>[A-Za-z0-9]+)$",
        description="For a device not in call_signs: a regex whose call_sign group finds it in the id.",
    )
    poll_seconds: float = Field(
        default=0.1,
        gt=0,
        le=10,
        description=(
            "Seconds the gateway waits before looking again for a bus that is not running yet. "
            "New dispatches need no polling here: the bus's tail hands them over as they are stored "
            "(an embedded bus looks for other processes' writes every 0.25 s, or bus.poll_interval if more)."
        ),
    )
    heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=300, description="Seconds between keep-alive comments on an idle stream."
    )
    replay_limit: int = Field(default=10_000, ge=1, description="Most bus messages one reconnect replays.")

    @field_validator("subjects")
    @classmethod
    def _filters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_filter(v) for v in value)

    @field_validator("call_sign_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        if "call_sign" not in compiled.groupindex:
            raise ValueError("the pattern needs a (?P<call_sign>...) group")
        return value

    def call_sign_of(self, device: str) -> str | None:
        """The call sign of the unit ``device`` rides with, or None when it cannot be told."""
        if device in self.call_signs:
            return self.call_signs[device].upper()
        found = re.search(self.call_sign_pattern, device)
        return found.group("call_sign").upper() if found else None


class StatusConfig(_Config):
    """Unit status from devices, published for routes to carry to CAD."""

    event_type: str = Field(
        default="incident.unit.status.reported", description="Type (and subject) of a status event."
    )
    purpose: str = Field(
        default="dispatch",
        min_length=1,
        max_length=200,
        description="The purpose a status event carries (what the agreement with CAD must serve).",
    )
    memory_hours: float = Field(
        default=24.0,
        gt=0,
        le=24 * 31,
        description="How far back the bus is read to learn an incident's last sequence after a restart.",
    )
    statuses: dict[str, str] = Field(
        default_factory=lambda: {"ENROUTE": "en-route", "ONSCENE": "on-scene", "CLEARED": "cleared"},
        min_length=1,
        description="Status words a device may send, to the canonical incident status.",
    )

    @field_validator("event_type")
    @classmethod
    def _type(cls, value: str) -> str:
        return check_subject(check_event_type(value))

    @field_validator("statuses")
    @classmethod
    def _canonical(cls, value: dict[str, str]) -> dict[str, str]:
        # The event carries a canonical unit-status-report, so each word must name a canonical status.
        known = {status.value for status in IncidentStatus}
        for word, status in value.items():
            if status not in known:
                raise ValueError(f"{word}: {status!r} is not a canonical incident status: {sorted(known)}")
        return value


class DeviceGatewayConfig(_Config):
    """The whole gateway: checks, dispatch and status."""

    checks: ChecksConfig
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig)
    status: StatusConfig = Field(default_factory=StatusConfig)


class DevicesFile(_Config):
    """A ``devices/*.yaml`` file."""

    devices: DeviceGatewayConfig


def load_device_config(integration_dir: Path) -> DeviceGatewayConfig | None:
    """The gateway configured in ``integration_dir/devices``, or None when the folder has none.

    Raises ``ConfigError`` naming each problem as ``FILE:LINE:COL path``.
    """
    folder = Path(integration_dir) / DEVICES_FOLDER
    files = (
        sorted(p for p in folder.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
        if folder.is_dir()
        else []
    )
    problems: list[tuple[str, str]] = []
    found: list[tuple[str, DeviceGatewayConfig]] = []
    for path in files:
        name = f"{DEVICES_FOLDER}/{path.name}"
        try:
            document = read_yaml_document(path)
        except OSError as exc:
            problems.append((name, f"cannot read: {exc.strerror or exc}"))
            continue
        except YamlProblem as exc:
            problems.extend((f"{name}:{p[0]}:{p[1]}" if p else name, why) for p, why in exc.problems)
            continue
        try:
            found.append((name, DevicesFile.model_validate(document.data).devices))
        except ValidationError as exc:
            problems.extend(
                (location(name, document, tuple(error["loc"])), error["msg"]) for error in exc.errors()
            )
    if len(found) > 1:
        problems.append((found[1][0], f"the device gateway is already configured in {found[0][0]}"))
    if problems:
        raise ConfigError(str(folder), problems)
    return found[0][1] if found else None
