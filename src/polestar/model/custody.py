"""Custody episodes: a detainee's time in custody under one custody record, with the PACE clock.

The detention clock follows the Police and Criminal Evidence Act 1984: the
limit without charge is 24 hours from the *relevant time* (s41), extendable
to 36 hours by a superintendent (s42) and to at most 96 hours by warrants of
further detention (ss43-44). An inspector reviews detention no later than 6
hours after it was first authorised, then at intervals of no more than 9
hours (s40).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar, Self

from pydantic import Field, model_validator

from polestar.model.common import Entity, Officer, PolestarModel, Reference, ShortText, Text
from polestar.model.event_codes import CustodyOutcome, CustodyReviewKind, CustodyReviewOutcome
from polestar.model.timeutil import UtcDateTime

BASIC_LIMIT = timedelta(hours=24)
SUPERINTENDENT_LIMIT = timedelta(hours=36)
ABSOLUTE_LIMIT = timedelta(hours=96)
FIRST_REVIEW = timedelta(hours=6)
REVIEW_INTERVAL = timedelta(hours=9)


class CustodyReview(PolestarModel):
    """A review of detention, or a decision to extend the detention limit."""

    kind: CustodyReviewKind = Field(examples=["inspector-review"])
    conducted_at: UtcDateTime = Field(description="When the review was carried out (UTC).")
    reviewer: Officer | None = Field(default=None, description="The reviewing officer.")
    outcome: CustodyReviewOutcome = Field(examples=["continued"])
    extended_to: UtcDateTime | None = Field(
        default=None, description="The new detention limit (UTC), for an extension granted."
    )
    notes: Text | None = None

    @model_validator(mode="after")
    def _extension_has_limit(self) -> Self:
        if (self.outcome is CustodyReviewOutcome.EXTENDED) != (self.extended_to is not None):
            raise ValueError("extended_to is given exactly when the outcome is 'extended'")
        if self.outcome is CustodyReviewOutcome.EXTENDED and self.kind is CustodyReviewKind.INSPECTOR_REVIEW:
            raise ValueError("an inspector's review cannot extend the detention limit")
        return self


class CustodyEpisode(Entity):
    """One detainee's time in custody, from arrival at the suite to release, under one record."""

    schema_name: ClassVar[str] = "custody-episode"

    custody_record_number: Reference = Field(
        description="The custody record number.", examples=["01CX/004512/26"]
    )
    custody_suite: ShortText = Field(description="Custody suite name or code.", examples=["Charing Cross"])
    arrived_at: UtcDateTime = Field(description="When the detainee arrived at the suite (UTC).")
    relevant_time: UtcDateTime = Field(
        description="PACE s41 relevant time (UTC): when the detention clock starts, usually arrival."
    )
    detention_authorised_at: UtcDateTime | None = Field(
        default=None, description="When the custody officer authorised detention (UTC)."
    )
    detention_grounds: Text | None = Field(
        default=None, examples=["to secure and preserve evidence and obtain evidence by questioning"]
    )
    reviews: tuple[CustodyReview, ...] = Field(default=(), description="Reviews and extensions, in order.")
    released_at: UtcDateTime | None = Field(default=None, description="When the detainee left custody (UTC).")
    outcome: CustodyOutcome | None = Field(default=None, description="How the episode ended.")

    @model_validator(mode="after")
    def _clock_is_consistent(self) -> Self:
        if self.detention_authorised_at is not None and self.detention_authorised_at < self.arrived_at:
            raise ValueError("detention_authorised_at is before arrived_at")
        if (self.released_at is None) != (self.outcome is None):
            raise ValueError("released_at and outcome are given together, or neither")
        end = self.released_at
        if end is not None and end < self.arrived_at:
            raise ValueError("released_at is before arrived_at")
        last = self.arrived_at
        for review in self.reviews:
            if review.conducted_at < last or (end is not None and review.conducted_at > end):
                raise ValueError(f"review at {review.conducted_at.isoformat()} is out of order")
            last = review.conducted_at
            if review.extended_to is not None:
                cap = (
                    SUPERINTENDENT_LIMIT
                    if review.kind is CustodyReviewKind.SUPERINTENDENT_EXTENSION
                    else ABSOLUTE_LIMIT
                )
                if review.extended_to > self.relevant_time + cap:
                    raise ValueError(
                        f"a {review.kind.value} cannot extend detention beyond "
                        f"{int(cap.total_seconds() // 3600)} hours from the relevant time"
                    )
        return self

    @property
    def detention_limit_at(self) -> datetime:
        """When detention without charge must end: 24 hours from the relevant time, or as extended."""
        limit = self.relevant_time + BASIC_LIMIT
        for review in self.reviews:
            if review.extended_to is not None:
                limit = max(limit, review.extended_to)
        return limit

    @property
    def next_review_due_at(self) -> datetime | None:
        """When the next inspector's review is due; None before authorisation and after release."""
        if self.detention_authorised_at is None or self.released_at is not None:
            return None
        inspector = [r for r in self.reviews if r.kind is CustodyReviewKind.INSPECTOR_REVIEW]
        if not inspector:
            return self.detention_authorised_at + FIRST_REVIEW
        return inspector[-1].conducted_at + REVIEW_INTERVAL

    @property
    def in_custody(self) -> bool:
        """True until the detainee is released."""
        return self.released_at is None
