"""What a configuration reload reports: what it started, stopped and restarted, or why it did nothing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from polestar.errors import ConfigError


class ConfigProblem(BaseModel):
    """One problem in a configuration file: where, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    where: str = Field(
        description="`FILE:LINE:COL dotted.path`.",
        examples=["routes/custody.yaml:12:15 routes[0].to[0].connector"],
    )
    reason: str = Field(description="What is wrong.")


class ReloadResult(BaseModel):
    """What a reload did, or why it did nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    applied: bool = Field(description="False when the configuration was invalid and nothing changed.")
    problems: list[ConfigProblem] = Field(default_factory=list, description="Why it was refused.")
    started: list[str] = Field(default_factory=list, description="Routes and connectors started.")
    stopped: list[str] = Field(default_factory=list, description="Routes and connectors stopped.")
    restarted: list[str] = Field(default_factory=list, description="Routes and connectors restarted.")

    @classmethod
    def refused(cls, error: ConfigError) -> ReloadResult:
        """The result for an invalid configuration."""
        return cls(applied=False, problems=[ConfigProblem(where=w, reason=r) for w, r in error.problems])
