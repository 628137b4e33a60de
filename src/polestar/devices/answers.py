"""A national system's check reply read into the canonical answer a device is shown.

The reply arrives as a record (``element_to_record``: children by local name,
``@attr``, ``#text``; a repeated child is a list). The answer keeps what an
officer acts on: who or what matched, wanted and missing markers, warning
signals, and for a vehicle whether it is reported stolen and who keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from polestar.errors import DeliveryRefused


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Address(_Answer):
    """A last known address."""

    lines: list[str] = Field(default_factory=list)
    postcode: str | None = None


class Marker(_Answer):
    """A wanted or missing marker: why, which force, since when."""

    reason: str | None = Field(default=None, examples=["failed to appear at court"])
    force: str | None = Field(default=None, examples=["01"])
    since: str | None = Field(default=None, examples=["2026-10-01"])


class Warning(_Answer):  # noqa: A001 - the PNC's own word for a warning signal
    """A warning signal an officer must know before approaching (violent, weapons...)."""

    code: str | None = Field(default=None, examples=["VI"])
    text: str | None = Field(default=None, examples=["VIOLENT"])


class PersonRecord(_Answer):
    """One person the system matched."""

    pnc_id: str | None = Field(default=None, examples=["2012/0052494Q"])
    surname: str | None = None
    forenames: str | None = None
    date_of_birth: str | None = None
    sex: str | None = None
    address: Address | None = None
    wanted: list[Marker] = Field(default_factory=list, description="Wanted markers; empty: not wanted.")
    missing: list[Marker] = Field(default_factory=list, description="Missing markers; empty: not missing.")
    warnings: list[Warning] = Field(default_factory=list)
    convictions: int | None = None


class PersonAnswer(_Answer):
    """The answer to a person check."""

    source: str = Field(description="The connector that answered.", examples=["pnc"])
    transaction: str | None = Field(default=None, description="The system's own enquiry reference.")
    matches: int = Field(ge=0)
    people: list[PersonRecord] = Field(default_factory=list)
    wanted: bool = Field(description="True when any match is wanted.")
    missing: bool = Field(description="True when any match is missing.")
    warnings: list[str] = Field(default_factory=list, description="Every warning code among the matches.")


class Vehicle(_Answer):
    """The vehicle the system matched."""

    vrm: str | None = None
    make: str | None = None
    model: str | None = None
    colour: str | None = None
    first_registered: str | None = None
    stolen: bool = False
    stolen_since: str | None = None
    keeper: PersonRecord | None = None


class VehicleAnswer(_Answer):
    """The answer to a vehicle check."""

    source: str = Field(examples=["pnc"])
    transaction: str | None = None
    matches: int = Field(ge=0)
    vehicle: Vehicle | None = None
    stolen: bool = Field(description="True when the vehicle is reported stolen.")


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("#text")
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    text = _text(value)
    try:
        return None if text is None else int(text)
    except ValueError:
        return None


def _marker(value: Any) -> Marker:
    if not isinstance(value, Mapping):
        return Marker(reason=_text(value))
    return Marker(reason=_text(value), force=value.get("@force"), since=value.get("@since"))


def _warning(value: Any) -> Warning:
    if not isinstance(value, Mapping):
        return Warning(text=_text(value))
    return Warning(code=value.get("@code"), text=_text(value))


def _person(record: Mapping[str, Any]) -> PersonRecord:
    address = record.get("LastKnownAddress")
    signals = record.get("WarningSignals")
    return PersonRecord(
        pnc_id=_text(record.get("PNCId")),
        surname=_text(record.get("Surname")),
        forenames=_text(record.get("Forenames")),
        date_of_birth=_text(record.get("DateOfBirth")),
        sex=_text(record.get("Sex")),
        address=(
            Address(
                lines=[t for t in (_text(x) for x in _list(address.get("Line"))) if t],
                postcode=_text(address.get("Postcode")),
            )
            if isinstance(address, Mapping)
            else None
        ),
        wanted=[_marker(m) for m in _list(record.get("Wanted"))],
        missing=[_marker(m) for m in _list(record.get("Missing"))],
        warnings=[_warning(w) for w in _list(signals.get("Warning"))] if isinstance(signals, Mapping) else [],
        convictions=_int(record.get("Convictions")),
    )


def _body(reply: Mapping[str, Any], element: str, source: str) -> Mapping[str, Any]:
    body = reply.get(element)
    if not isinstance(body, Mapping):
        found = ", ".join(sorted(reply)) or "nothing"
        raise DeliveryRefused(f"{source} answered {found}, not a {element}")
    return body


def person_answer(reply: Mapping[str, Any], source: str) -> PersonAnswer:
    """The canonical answer from a ``PersonEnquiryResponse`` record; ``DeliveryRefused`` if it is not one."""
    body = _body(reply, "PersonEnquiryResponse", source)
    people = [_person(p) for p in _list(body.get("Person")) if isinstance(p, Mapping)]
    return PersonAnswer(
        source=source,
        transaction=_text(body.get("TransactionId")),
        matches=_int(body.get("Matches")) or len(people),
        people=people,
        wanted=any(p.wanted for p in people),
        missing=any(p.missing for p in people),
        warnings=sorted({w.code or w.text or "" for p in people for w in p.warnings} - {""}),
    )


def vehicle_answer(reply: Mapping[str, Any], source: str) -> VehicleAnswer:
    """The canonical answer from a ``VehicleEnquiryResponse`` record; ``DeliveryRefused`` if it is not one."""
    body = _body(reply, "VehicleEnquiryResponse", source)
    record = body.get("Vehicle")
    vehicle = None
    if isinstance(record, Mapping):
        stolen = record.get("ReportedStolen")
        keeper = record.get("Keeper")
        vehicle = Vehicle(
            vrm=_text(record.get("VRM")),
            make=_text(record.get("Make")),
            model=_text(record.get("Model")),
            colour=_text(record.get("Colour")),
            first_registered=_text(record.get("FirstRegistered")),
            stolen=(_text(stolen) or "").lower() == "true",
            stolen_since=stolen.get("@since") if isinstance(stolen, Mapping) else None,
            keeper=_person(keeper) if isinstance(keeper, Mapping) else None,
        )
    return VehicleAnswer(
        source=source,
        transaction=_text(body.get("TransactionId")),
        matches=_int(body.get("Matches")) or (1 if vehicle else 0),
        vehicle=vehicle,
        stolen=bool(vehicle and vehicle.stolen),
    )
