"""What every POLE entity and link shares: an id, provenance, a protective marking, a version.

::

    PolestarModel                 extra="forbid", frozen: every canonical model
    └── Entity                    id, version, provenance, marking, schema name and version
        ├── Person, Vehicle, ..., Location, Incident, ...
        └── Link
"""

from __future__ import annotations

import uuid
from typing import Annotated, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from polestar.errors import ModelError
from polestar.model.codes import EntityType
from polestar.model.marking import OFFICIAL, ProtectiveMarking
from polestar.model.timeutil import UtcDateTime

ENTITY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"

EntityId = Annotated[
    str,
    StringConstraints(pattern=ENTITY_ID_PATTERN),
    Field(
        description="Stable id of the entity in Polestar; never reused, unchanged across versions.",
        examples=["7d4f3c52-2a0b-4a4c-9f1e-3f3f7f0e8a21"],
    ),
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
"""A short, non-blank text: a name, a make, a label."""
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
"""A free-text description or narrative."""
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200_000)]
"""A long narrative, e.g. the body of a statement."""
Reference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 /._:#-]{0,63}$"),
]
"""A reference number another system gave something: 1-64 letters, digits and / . _ : # - space."""
ForceCode = Annotated[
    str,
    StringConstraints(pattern=r"^\d{2}$"),
    Field(
        description="Two-digit Home Office police force code, e.g. '01' for the Metropolitan Police.",
        examples=["01", "20", "48"],
    ),
]
OrganisationCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$"),
    Field(
        description=(
            "The organisation that owns a record: a two-digit police force code, or the upper-case "
            "code of a partner agency."
        ),
        examples=["01", "48", "HMPPS", "CPS"],
    ),
]
SystemName = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$", max_length=64),
    Field(description="The source system, in kebab-case.", examples=["custody", "cad", "crime-recording"]),
]


def new_entity_id() -> str:
    """A fresh, globally unique entity id."""
    return str(uuid.uuid4())


class PolestarModel(BaseModel):
    """Base of every canonical model: unknown fields are refused, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Provenance(PolestarModel):
    """Where a record came from: who owns it, which system said it, under what reference, when."""

    organisation: OrganisationCode
    system: SystemName
    reference: Reference | None = Field(
        default=None,
        description="The source system's own reference for the record.",
        examples=["CUST-01-2026-004512", "CAD 1234 24/11"],
    )
    observed_at: UtcDateTime | None = Field(
        default=None,
        description="When the fact was observed in the world (UTC), where known.",
        examples=["2026-11-24T13:58:00Z"],
    )
    recorded_at: UtcDateTime = Field(
        description="When the source system recorded it (UTC).", examples=["2026-11-24T14:03:12Z"]
    )

    @model_validator(mode="after")
    def _observed_before_recorded(self) -> Self:
        if self.observed_at is not None and self.observed_at > self.recorded_at:
            raise ValueError(
                f"observed_at {self.observed_at.isoformat()} is after recorded_at "
                f"{self.recorded_at.isoformat()}: a fact cannot be recorded before it is observed"
            )
        return self


class EntityRef(PolestarModel):
    """A typed reference to an entity: what kind it is and its id."""

    type: EntityType = Field(description="The kind of entity referred to.", examples=["person"])
    id: EntityId


class Officer(PolestarModel):
    """An officer or member of staff identified as PACE requires: number and force."""

    identifier: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{1,12}$")] = Field(
        description="Warrant, collar or staff number.", examples=["PC1234", "217654"]
    )
    force: ForceCode
    name: ShortText | None = Field(default=None, description="Name, where it may be recorded.")
    station: ShortText | None = Field(
        default=None, description="Station the officer is attached to.", examples=["Charing Cross"]
    )


class Entity(PolestarModel):
    """Base of every POLE entity and link.

    Subclasses set ``schema_name`` (kebab-case, the name in ``CANONICAL_MODELS``
    and ``dataschema`` URNs) and ``schema_version`` (``MAJOR.MINOR``).
    """

    schema_name: ClassVar[str]
    schema_version: ClassVar[str] = "1.0"

    id: EntityId = Field(default_factory=new_entity_id)
    version: int = Field(
        default=1, ge=1, description="Version of this record: 1 when created, +1 on each change."
    )
    provenance: Provenance = Field(description="Who owns the record and which system said it.")
    marking: ProtectiveMarking = Field(
        default=OFFICIAL,
        description="Protective marking (Government Security Classifications) of this record.",
        examples=[{"classification": "OFFICIAL", "sensitive": True, "caveats": ["PERSONAL"]}],
    )

    @property
    def ref(self) -> EntityRef:
        """A typed reference to this entity, for links."""
        try:
            kind = EntityType(self.schema_name)
        except ValueError:
            raise ModelError(f"a {self.schema_name} cannot be the end of a link") from None
        return EntityRef(type=kind, id=self.id)

    def revised(self, **changes: object) -> Self:
        """A validated copy with ``changes`` applied and the version incremented."""
        data = self.model_dump()
        data.update(changes)
        data["version"] = self.version + 1
        return self.model_validate(data)
