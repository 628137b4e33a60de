"""Intelligence reports (graded 3x5x2) and witness statements (MG11)."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from polestar.model.common import Entity, LongText, Officer, Reference, Text
from polestar.model.event_codes import HandlingCode, IntelligenceAssessment, SourceEvaluation
from polestar.model.timeutil import UtcDateTime

MG11_DECLARATION = (
    "This statement is true to the best of my knowledge and belief and I make it knowing that, "
    "if it is tendered in evidence, I shall be liable to prosecution if I have wilfully stated "
    "in it anything which I know to be false, or do not believe to be true."
)
"""The declaration of a written statement under s9 Criminal Justice Act 1967, as on form MG11."""


class IntelligenceReport(Entity):
    """An intelligence report, graded by the 3x5x2 system (College of Policing APP)."""

    schema_name: ClassVar[str] = "intelligence-report"

    reference: Reference = Field(description="Intelligence report reference.", examples=["IR-01-2026-88213"])
    submitted_at: UtcDateTime = Field(description="When the report was submitted (UTC).")
    source_evaluation: SourceEvaluation = Field(
        description="3x5x2: how reliable the source is.", examples=["2"]
    )
    intelligence_assessment: IntelligenceAssessment = Field(
        description="3x5x2: how the source knows it.", examples=["B"]
    )
    handling_code: HandlingCode = Field(description="3x5x2: whether it may be shared.", examples=["P"])
    handling_conditions: Text | None = Field(
        default=None, description="The conditions on sharing; required with handling code C."
    )
    text: Text = Field(description="The sanitised intelligence.")
    submitted_by: Officer | None = None

    @model_validator(mode="after")
    def _conditions_with_c(self) -> Self:
        if (self.handling_code is HandlingCode.CONDITIONS) != (self.handling_conditions is not None):
            raise ValueError("handling_conditions are given exactly when the handling code is 'C'")
        return self

    @property
    def grading(self) -> str:
        """The grading as written on the report, e.g. ``2/B/P``."""
        return (
            f"{self.source_evaluation.value}/{self.intelligence_assessment.value}/{self.handling_code.value}"
        )


class WitnessStatement(Entity):
    """A witness statement on form MG11 (s9 Criminal Justice Act 1967)."""

    schema_name: ClassVar[str] = "witness-statement"

    urn: Reference | None = Field(default=None, description="Case unique reference number, if known.")
    statement_made_at: UtcDateTime = Field(description="When the statement was made (UTC).")
    witness_over_18: bool = Field(description="Whether the witness is over 18 (MG11 asks for age if not).")
    witness_age: int | None = Field(default=None, ge=0, le=17, description="Age, if under 18.")
    occupation: Text | None = None
    text: LongText = Field(description="The statement in the witness's words.")
    declaration: Text = Field(default=MG11_DECLARATION, description="The s9 declaration the witness signs.")
    pages: int = Field(default=1, ge=1, description="Number of pages, each signed.")
    signed: bool = Field(default=False, description="Whether the witness has signed the statement.")
    signed_at: UtcDateTime | None = Field(default=None, description="When it was signed (UTC).")
    taken_by: Officer | None = Field(default=None, description="The officer who took the statement.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.signed != (self.signed_at is not None):
            raise ValueError("signed_at is given exactly when the statement is signed")
        if self.witness_over_18 == (self.witness_age is not None):
            raise ValueError("witness_age is given exactly when the witness is under 18")
        if self.signed_at is not None and self.signed_at < self.statement_made_at:
            raise ValueError("signed_at is before statement_made_at")
        return self
