"""``ResolutionPolicy``: entity resolution's cut-offs, as the hub configuration's ``resolution`` section.

::

    resolution:
      merge_at: 22          # people: merge automatically at or above this many bits
      review_at: 14         # people: a person decides from here up to merge_at
      address_review_at: 92 # locations at one postcode: address similarity a person decides from

Below the review cut-off a record is new. Strong identifiers (PNC, CRO,
driving licence; VIN and UPRN for objects) merge whatever the scores. A review
cut-off above its merge cut-off is refused, naming both fields.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ResolutionPolicy(BaseModel):
    """Thresholds (bits of Fellegi-Sunter weight) and which identifiers are strong enough to merge on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    merge_at: float = Field(
        default=20.0,
        description=(
            "People: merge automatically at or above this score, in bits "
            "(chosen on synthetic data: precision 1.0)."
        ),
        examples=[20.0, 24.0],
    )
    review_at: float = Field(
        default=12.0,
        description="People: queue for a person to decide at or above this score; below it, a new person.",
        examples=[12.0, 16.0],
    )
    address_review_at: float = Field(
        default=90.0,
        ge=0,
        le=100,
        description=(
            "Locations without a UPRN, at one postcode: queue for review from this address similarity "
            "(token-set, 0-100). Only the same address words merge: one address's words inside "
            "another's ('Sketty' and 'Sketty Park') score 100 too."
        ),
        examples=[90.0, 95.0],
    )
    strong_identifiers: tuple[str, ...] = Field(
        default=("PNC", "CRO", "DRIVING-LICENCE"),
        description="Person identifier types whose agreement alone merges two records.",
        examples=[["PNC", "CRO", "DRIVING-LICENCE"]],
    )
    actor: str = Field(
        default="system:resolution",
        min_length=1,
        description="Who automatic merges are recorded as.",
        examples=["system:resolution"],
    )

    @model_validator(mode="after")
    def _review_below_merge(self) -> Self:
        if self.review_at > self.merge_at:
            raise ValueError(
                f"review_at ({self.review_at:g}) is above merge_at ({self.merge_at:g}): a pair is queued "
                "for review from review_at until it scores merge_at, so review_at must be at most merge_at"
            )
        return self
