"""Crime reports and arrests."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from polestar.model.common import Entity, Officer, Reference, Text
from polestar.model.event_codes import ArrestNecessity, CrimeStatus
from polestar.model.identifiers import OffenceCode
from polestar.model.timeutil import UtcDateTime


class Crime(Entity):
    """A crime report: drafted (often from a call), submitted, then recorded with a reference."""

    schema_name: ClassVar[str] = "crime"

    crime_reference: Reference | None = Field(
        default=None,
        description="Crime reference number given by crime recording; none while a draft.",
        examples=["5201234/26"],
    )
    status: CrimeStatus = Field(default=CrimeStatus.DRAFT)
    offence_codes: tuple[OffenceCode, ...] = Field(
        default=(),
        description="Home Office offence classification codes, most serious first.",
        examples=[["008/01"]],
    )
    committed_from: UtcDateTime | None = Field(
        default=None, description="Start of the window the crime was committed in (UTC)."
    )
    committed_to: UtcDateTime | None = Field(
        default=None, description="End of that window (UTC); equal to the start when known exactly."
    )
    reported_at: UtcDateTime = Field(description="When the crime was reported to police (UTC).")
    summary: Text = Field(examples=["victim threatened with a knife and phone taken"])
    modus_operandi: Text | None = Field(default=None, description="How it was done.")
    outcome_type: int | None = Field(
        default=None,
        ge=1,
        le=22,
        description="Home Office outcome type (1-22), once finalised.",
        examples=[1],
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.committed_from and self.committed_to and self.committed_from > self.committed_to:
            raise ValueError("committed_from is after committed_to")
        if self.committed_from and self.committed_from > self.reported_at:
            raise ValueError(
                "committed_from is after reported_at: a crime cannot be reported before it begins"
            )
        if self.status in {CrimeStatus.RECORDED, CrimeStatus.FINALISED} and self.crime_reference is None:
            raise ValueError(f"a {self.status.value} crime must have a crime_reference")
        if self.status in {CrimeStatus.RECORDED, CrimeStatus.FINALISED} and not self.offence_codes:
            raise ValueError(f"a {self.status.value} crime must have at least one offence code")
        if (self.outcome_type is not None) != (self.status is CrimeStatus.FINALISED):
            raise ValueError("outcome_type is given exactly when the crime is finalised")
        return self


class Arrest(Entity):
    """An arrest: when, for what, on what grounds, why it was necessary, by whom."""

    schema_name: ClassVar[str] = "arrest"

    arrested_at: UtcDateTime = Field(description="When the person was arrested (UTC).")
    offence_codes: tuple[OffenceCode, ...] = Field(
        default=(), description="Offences the arrest was for, where classified.", examples=[["034/01"]]
    )
    offence_description: Text = Field(
        description="The offence as told to the person.", examples=["robbery, Strand, 24 November"]
    )
    grounds: Text = Field(description="The grounds for suspecting the person.")
    necessity: tuple[ArrestNecessity, ...] = Field(
        default=(),
        description="PACE Code G necessity criteria; at least one unless arrested on warrant.",
        examples=[["prompt-investigation"]],
    )
    on_warrant: bool = Field(default=False, description="Arrested on a warrant.")
    cautioned: bool = Field(default=True, description="The caution was given on arrest.")
    officer: Officer | None = Field(default=None, description="The arresting officer.")

    @model_validator(mode="after")
    def _necessity(self) -> Self:
        if not self.on_warrant and not self.necessity:
            raise ValueError("an arrest without warrant needs at least one necessity criterion (PACE Code G)")
        return self
