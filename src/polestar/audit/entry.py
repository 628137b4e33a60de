"""What one audit entry says: the operation, who did it, about whom, why, under which basis, how it ended.

The s62 operations (collection, alteration, consultation, disclosure,
combination, erasure) are joined by two the hub adds: an access to the audit
log itself, and an operator's action on the platform (a dead-letter replay).
Which fields are personal, and so encrypted per subject in the stored leaf, is
fixed here (``PERSONAL_FIELDS``); everything else is stored readable, because an
auditor must be able to see who did what even after a subject is erased.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from polestar.audit.bases import LegalBasis
from polestar.model.timeutil import UtcDateTime, utcnow

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Text = Annotated[str, StringConstraints(max_length=10_000)]

PERSONAL_FIELDS = frozenset({"subjects.value", "query", "details"})
"""Fields encrypted under the subjects' keys; all others are stored readable."""


class Operation(StrEnum):
    """What was done to personal data (DPA 2018 s62(1)), or to the platform or the log itself."""

    COLLECTION = "collection"
    ALTERATION = "alteration"
    CONSULTATION = "consultation"
    DISCLOSURE = "disclosure"
    """Includes transfers; ``recipients`` says to whom."""
    COMBINATION = "combination"
    """Records merged or linked (entity resolution)."""
    ERASURE = "erasure"
    """Who erased which record when: never the erased content."""
    AUDIT_ACCESS = "audit_access"
    """Someone read, queried, verified or exported the audit log."""
    OPERATOR_ACTION = "operator_action"
    """An operator acted on the platform, e.g. replayed or discarded a dead letter."""
    ACCESS_DECISION = "access_decision"
    """Policy allowed or refused an action (details name the deciding policies or agreement)."""


class Outcome(StrEnum):
    """How the operation ended."""

    SUCCEEDED = "succeeded"
    REFUSED = "refused"
    """Not allowed (no role, no purpose, no agreement); nothing was processed."""
    NOT_FOUND = "not_found"
    FAILED = "failed"


class Actor(BaseModel):
    """Who acted: a person (with the device they used) or a system acting on its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    person: Name | None = Field(default=None, description="The person, e.g. user:pc1234.")
    device: Name | None = Field(default=None, description="The device they used, e.g. device:tablet-0042.")
    system: Name | None = Field(default=None, description="The system acting, e.g. system:cad.")

    @model_validator(mode="after")
    def _someone_acted(self) -> Self:
        if self.person is None and self.system is None and self.device is None:
            raise ValueError("an actor needs a person, a device or a system")
        return self

    @property
    def identity(self) -> str:
        """The one name the actor is searched by: the person, else the system, else the device."""
        return self.person or self.system or self.device or ""

    @classmethod
    def parse(cls, value: str) -> Actor:
        """``user:…``/``person:…`` → person, ``device:…`` → device, anything else → system."""
        kind = value.split(":", 1)[0].lower()
        if kind in {"user", "person"}:
            return cls(person=value)
        if kind == "device":
            return cls(device=value)
        return cls(system=value)


class SubjectRef(BaseModel):
    """A typed identifier of a person (or object) the operation touched: ``{type: PNC, value: …}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,31}$")] = Field(
        description="Identifier scheme: PNC, CRO, or POLESTAR for the hub's own entity ids.",
        examples=["PNC", "CRO", "POLESTAR"],
    )
    value: Name = Field(description="The identifier (personal data: stored encrypted).")

    @property
    def canonical(self) -> str:
        """Type and value joined by a unit separator, upper-cased: the form pseudonyms are computed from."""
        return f"{self.type.upper()}\x1f{self.value.strip().upper()}"


class AuditEntry(BaseModel):
    """One processing operation, as DPA 2018 s62 asks it to be logged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    operation: Operation = Field(description="What was done.")
    actor: Actor = Field(description="Who did it: person and device, or system.")
    service: Name = Field(
        description="The system or hub component where it happened.", examples=["polestar-api", "pnc"]
    )
    at: UtcDateTime = Field(default_factory=utcnow, description="When, in UTC.")
    outcome: Outcome = Field(default=Outcome.SUCCEEDED, description="How it ended.")
    on_behalf_of: Name | None = Field(default=None, description="The person or body acted for.")
    purpose: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = Field(
        default=None,
        description="The stated purpose, where given. Stored readable and searchable: say why, "
        "never name the subject here (details go in ``details``).",
        examples=["roadside check"],
    )
    legal_basis: LegalBasis | None = Field(default=None, description="The DPA 2018 Part 3 basis relied on.")
    correlation_id: Name | None = Field(default=None, description="Ties the operations of one flow together.")
    operation_id: Name = Field(
        default_factory=lambda: str(uuid.uuid4()), description="Unique id of this operation."
    )
    subjects: list[SubjectRef] = Field(default_factory=list, description="Whom it touched (encrypted).")
    recipients: list[Name] = Field(default_factory=list, description="Who received a disclosure.")
    query: Text | None = Field(default=None, description="The query as asked (encrypted).")
    record_ids: list[Name] = Field(
        default_factory=list, description="Records (or audit entries) returned, changed, merged or erased."
    )
    details: dict[str, Any] = Field(default_factory=dict, description="Anything else (encrypted).")

    @field_validator("subjects")
    @classmethod
    def _subjects_once_each(cls, subjects: list[SubjectRef]) -> list[SubjectRef]:
        seen: set[str] = set()
        unique = []
        for s in subjects:
            if s.canonical not in seen:
                seen.add(s.canonical)
                unique.append(s)
        return unique


class AuditPolicy(BaseModel):
    """Rules an operation must meet before it is done (the log itself records whatever happened)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    purpose_required_for: frozenset[Operation] = Field(
        default=frozenset({Operation.CONSULTATION, Operation.DISCLOSURE}),
        description="Operations refused without a stated purpose.",
    )

    def check(self, operation: Operation, purpose: str | None) -> None:
        """Raise ``PurposeRequired`` when policy wants a purpose for ``operation`` and none was given."""
        from polestar.audit.errors import PurposeRequired  # noqa: PLC0415 - keeps errors free of models

        if operation in self.purpose_required_for and not (purpose or "").strip():
            raise PurposeRequired(f"a {operation.value} needs a stated purpose; say why")
