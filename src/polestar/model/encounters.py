"""Encounters on the street: stop and search (PACE Code A) and use of force.

A stop and search in which force was used must be followed by a use-of-force
record; :attr:`StopSearch.needs_use_of_force_record` is what a workflow reads
to open one. The person searched may ask for a copy of the record by email.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from polestar.model.codes import EthnicAppearance, SelfDefinedEthnicity
from polestar.model.common import Entity, Officer, Reference, Text
from polestar.model.event_codes import (
    ForceReason,
    ForceTactic,
    SearchObject,
    SearchOutcome,
    SearchPower,
    SearchSubject,
)
from polestar.model.identifiers import EmailAddress
from polestar.model.timeutil import UtcDateTime


class StopSearch(Entity):
    """A stop and search record: what PACE Code A (para 4.3) requires, plus the outcome."""

    schema_name: ClassVar[str] = "stop-search"

    searched_at: UtcDateTime = Field(description="When the search took place (UTC).")
    subject: SearchSubject = Field(description="Who or what was searched.", examples=["person"])
    power: SearchPower = Field(description="The legal power used.", examples=["misuse-of-drugs-s23"])
    object_of_search: tuple[SearchObject, ...] = Field(
        min_length=1, description="What the officer was looking for.", examples=[["controlled-drugs"]]
    )
    grounds: Text | None = Field(
        default=None,
        description="The grounds for the search; required for every suspicion-based power.",
        examples=["strong smell of cannabis from the person, who was seen passing a small package"],
    )
    authorisation_reference: Reference | None = Field(
        default=None,
        description="The authorisation for a no-suspicion power (s60 CJPOA, s47A TACT).",
        examples=["S60-01-2026-0113"],
    )
    officer: Officer = Field(description="The officer who carried out the search.")
    outcome: SearchOutcome = Field(examples=["no-further-action"])
    outcome_linked_to_object: bool | None = Field(
        default=None, description="Whether the outcome is linked to the object of the search."
    )
    force_used: bool = Field(default=False, description="Whether any force was used in the search.")
    self_defined_ethnicity: SelfDefinedEthnicity | None = Field(
        default=None, description="Ethnicity as the person stated it."
    )
    officer_defined_ethnicity: EthnicAppearance | None = None
    copy_requested_email: EmailAddress | None = Field(
        default=None, description="Where the person asked for a copy of the record to be sent."
    )
    body_worn_video: bool | None = Field(default=None, description="Whether body-worn video recorded it.")

    @model_validator(mode="after")
    def _grounds_or_authorisation(self) -> Self:
        if self.power.needs_authorisation and self.authorisation_reference is None:
            raise ValueError(f"a search under {self.power.value} needs an authorisation_reference")
        if not self.power.needs_authorisation and self.grounds is None:
            raise ValueError(f"a search under {self.power.value} needs the grounds for suspicion")
        return self

    @property
    def needs_use_of_force_record(self) -> bool:
        """True when force was used, so a use-of-force form must be opened."""
        return self.force_used


class UseOfForce(Entity):
    """A use of force by an officer: what was done, why, and who was hurt."""

    schema_name: ClassVar[str] = "use-of-force"

    occurred_at: UtcDateTime = Field(description="When force was used (UTC).")
    officer: Officer = Field(description="The officer who used force.")
    tactics: tuple[ForceTactic, ...] = Field(min_length=1, examples=[["handcuffing-compliant"]])
    reasons: tuple[ForceReason, ...] = Field(min_length=1, examples=[["effect-arrest"]])
    narrative: Text = Field(description="The officer's account of what happened and why.")
    subject_injured: bool = Field(default=False)
    officer_injured: bool = Field(default=False)
    injury_details: Text | None = Field(default=None, description="Required when anyone was injured.")

    @model_validator(mode="after")
    def _injuries_described(self) -> Self:
        if (self.subject_injured or self.officer_injured) and self.injury_details is None:
            raise ValueError("injury_details are required when anyone was injured")
        return self
