"""What an auditor may ask of the log: by subject, actor, system, purpose, operation and time."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from polestar.audit.entry import Operation, SubjectRef
from polestar.model.timeutil import UtcDateTime

MAX_QUERY_LIMIT = 100_000


class AuditQuery(BaseModel):
    """Criteria, all of which an entry must meet; an empty query matches every entry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: SubjectRef | None = Field(default=None, description="Entries touching this person.")
    actor: str | None = Field(default=None, description="Entries by this person, system or device.")
    system: str | None = Field(default=None, description="Entries recorded by this system or component.")
    purpose: str | None = Field(default=None, description="Entries with exactly this stated purpose.")
    operation: Operation | None = Field(default=None, description="Entries of this operation.")
    correlation_id: str | None = Field(default=None, description="Entries of this flow.")
    since: UtcDateTime | None = Field(default=None, description="At or after this time.")
    until: UtcDateTime | None = Field(default=None, description="Before this time.")
    limit: int = Field(default=1000, ge=1, le=MAX_QUERY_LIMIT, description="The most entries returned.")

    @model_validator(mode="after")
    def _time_runs_forward(self) -> Self:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValueError("until is before since")
        return self

    def describe(self) -> str:
        """The criteria as text, for the access entry recording this query (subject left out)."""
        parts = [
            f"{name}={value}"
            for name, value in self.model_dump(mode="json", exclude={"subject", "limit"}).items()
            if value is not None
        ]
        if self.subject is not None:
            parts.insert(0, f"subject={self.subject.type}:<recorded encrypted>")
        return " ".join(parts) or "all entries"
