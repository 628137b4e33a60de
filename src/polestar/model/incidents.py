"""Calls for service and incidents in computer-aided dispatch, with the incident lifecycle.

An incident moves through :class:`IncidentStatus` along :data:`INCIDENT_TRANSITIONS` only:

============  =================================================================
from          to
============  =================================================================
created       graded; closed (a duplicate or a call needing no action)
graded        graded (regraded); assigned; closed (resolved without deployment)
assigned      assigned (another unit); en-route; on-scene; graded (stood down)
en-route      on-scene; graded (diverted to something more urgent)
on-scene      cleared
cleared       assigned (sent back); closed
closed        nothing: closed is final
============  =================================================================

:meth:`Incident.with_status` is the one way to move it, and refuses any other step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Self

from pydantic import Field, StringConstraints, model_validator

from polestar.errors import ModelError
from polestar.model.common import Entity, PolestarModel, Reference, ShortText, Text
from polestar.model.event_codes import CallChannel, CrimeIndicator, IncidentGrade, IncidentStatus
from polestar.model.timeutil import UtcDateTime

S = IncidentStatus

INCIDENT_TRANSITIONS: Mapping[IncidentStatus, frozenset[IncidentStatus]] = {
    S.CREATED: frozenset({S.GRADED, S.CLOSED}),
    S.GRADED: frozenset({S.GRADED, S.ASSIGNED, S.CLOSED}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.EN_ROUTE, S.ON_SCENE, S.GRADED}),
    S.EN_ROUTE: frozenset({S.ON_SCENE, S.GRADED}),
    S.ON_SCENE: frozenset({S.CLEARED}),
    S.CLEARED: frozenset({S.ASSIGNED, S.CLOSED}),
    S.CLOSED: frozenset(),
}
"""The allowed next statuses from each status. ``closed`` is final."""

CallSign = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{0,15}$")]


def can_transition(current: IncidentStatus, new: IncidentStatus) -> bool:
    """True when an incident may move from ``current`` to ``new``."""
    return new in INCIDENT_TRANSITIONS[current]


class Call(Entity):
    """A call for service: the 999, 101 or online contact that may start an incident."""

    schema_name: ClassVar[str] = "call"

    reference: Reference = Field(description="Call handling reference.", examples=["CH-20261124-0117"])
    channel: CallChannel = Field(examples=["999"])
    received_at: UtcDateTime = Field(description="When the call was answered (UTC).")
    summary: Text = Field(examples=["caller reports man with knife outside shop"])
    crime_indicators: tuple[CrimeIndicator, ...] = Field(
        default=(),
        description="Indicators that a crime may have been committed; any one starts a draft crime report.",
        examples=[["violence", "weapon"]],
    )
    incident_reference: Reference | None = Field(
        default=None,
        description="The incident raised from this call, if any.",
        examples=["INC-20261124-0042"],
    )

    @property
    def suggests_crime(self) -> bool:
        """True when the call handler flagged any crime indicator."""
        return bool(self.crime_indicators)


class StatusChange(PolestarModel):
    """One step in an incident's history."""

    status: IncidentStatus
    at: UtcDateTime = Field(description="When the status took effect (UTC).")
    unit: CallSign | None = Field(
        default=None, description="The unit the change concerns.", examples=["CX21"]
    )


class Incident(Entity):
    """An incident in computer-aided dispatch: graded, assigned to units, attended and closed."""

    schema_name: ClassVar[str] = "incident"

    reference: Reference = Field(description="CAD incident reference.", examples=["INC-20261124-0042"])
    opened_at: UtcDateTime = Field(description="When the incident was created (UTC).")
    summary: Text = Field(examples=["man with knife outside shop, Strand"])
    grade: IncidentGrade | None = Field(default=None, description="Response grade, once graded.")
    status: IncidentStatus = Field(default=IncidentStatus.CREATED)
    history: tuple[StatusChange, ...] = Field(
        default=(), description="Every status change in order; the last one is the current status."
    )
    assigned_units: tuple[CallSign, ...] = Field(default=(), description="Units currently assigned.")
    closing_code: ShortText | None = Field(
        default=None, description="Result code given on closing.", examples=["crime recorded"]
    )

    @model_validator(mode="after")
    def _history_is_a_valid_path(self) -> Self:
        previous, when = IncidentStatus.CREATED, self.opened_at
        for step in self.history:
            if not can_transition(previous, step.status):
                raise ValueError(
                    f"history moves from {previous.value!r} to {step.status.value!r}, which is not allowed"
                )
            if step.at < when:
                raise ValueError(
                    f"history step to {step.status.value!r} at {step.at.isoformat()} is out of order"
                )
            previous, when = step.status, step.at
        if previous is not self.status:
            raise ValueError(f"status is {self.status.value!r} but the history ends at {previous.value!r}")
        if self.status not in {IncidentStatus.CREATED, IncidentStatus.CLOSED} and self.grade is None:
            raise ValueError(f"an incident that is {self.status.value!r} must have a grade")
        return self

    def with_status(
        self,
        new: IncidentStatus,
        at: UtcDateTime,
        *,
        unit: str | None = None,
        grade: IncidentGrade | None = None,
    ) -> Incident:
        """The incident moved to ``new`` at ``at``; ``ModelError`` if that step is not allowed.

        Give ``grade`` when grading (or regrading) and ``unit`` when assigning or
        when a unit reports its status. The version goes up by one.
        """
        if not can_transition(self.status, new):
            allowed = ", ".join(sorted(s.value for s in INCIDENT_TRANSITIONS[self.status])) or "none"
            raise ModelError(
                f"incident {self.reference}: cannot move from {self.status.value!r} to {new.value!r} "
                f"(allowed: {allowed})"
            )
        units = self.assigned_units
        if new is IncidentStatus.ASSIGNED and unit is not None and unit not in units:
            units = (*units, unit)
        if new in {IncidentStatus.GRADED, IncidentStatus.CLOSED}:
            units = ()
        try:
            return self.revised(
                status=new,
                grade=grade if grade is not None else self.grade,
                history=(*self.history, StatusChange(status=new, at=at, unit=unit)),
                assigned_units=units,
            )
        except ValueError as exc:
            raise ModelError(f"incident {self.reference}: {exc}") from exc


class UnitStatusReport(PolestarModel):
    """A unit's status on an incident, as its crew reported it from the in-vehicle device.

    Not an entity: it is a report about the incident (numbered per incident by
    the device, so CAD can apply the reports in order), which CAD turns into the
    incident's next status. The device gateway publishes it as
    ``incident.unit.status.reported``.
    """

    incident: Reference = Field(description="CAD incident reference.", examples=["INC-20261124-0042"])
    call_sign: CallSign = Field(description="The unit reporting.", examples=["CX21"])
    status: IncidentStatus = Field(description="The status the unit reports.", examples=["en-route"])
    sequence: int = Field(
        ge=1, le=1_000_000, description="Per incident: 1 for the device's first report, then +1."
    )
    reported_at: UtcDateTime = Field(description="When the hub accepted the report (UTC).")
    device: ShortText | None = Field(
        default=None, description="The device that sent the report.", examples=["IVMA-CX21"]
    )
