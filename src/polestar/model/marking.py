"""Protective markings from the Government Security Classifications.

A marking is a tier (OFFICIAL, SECRET, TOP SECRET), the OFFICIAL-SENSITIVE
handling flag, and zero or more handling caveats such as ``UK EYES ONLY``.
On the wire (the envelope's ``classification`` attribute) a marking is one
label, e.g. ``OFFICIAL-SENSITIVE [PERSONAL, UK EYES ONLY]``.
"""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator


class Classification(StrEnum):
    """The three tiers of the Government Security Classifications, lowest first."""

    OFFICIAL = "OFFICIAL"
    SECRET = "SECRET"
    TOP_SECRET = "TOP SECRET"

    @property
    def rank(self) -> int:
        """0 for OFFICIAL, 1 for SECRET, 2 for TOP SECRET: compare clearances with it."""
        return list(Classification).index(self)


Caveat = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z][A-Z0-9 \-]{0,62}[A-Z0-9]$", strip_whitespace=True),
]
"""A handling caveat or descriptor in capitals, e.g. ``UK EYES ONLY`` or ``PERSONAL``."""

_LABEL = re.compile(
    r"^(?P<tier>OFFICIAL|SECRET|TOP SECRET)(?P<sensitive>-SENSITIVE)?"
    r"(?:\s*\[(?P<caveats>[^\]]*)\])?$"
)


class ProtectiveMarking(BaseModel):
    """The protective marking carried by every record, link and event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classification: Classification = Field(
        default=Classification.OFFICIAL,
        description="The classification tier.",
        examples=["OFFICIAL"],
    )
    sensitive: bool = Field(
        default=False,
        description="OFFICIAL-SENSITIVE: OFFICIAL information needing extra care. Only with OFFICIAL.",
    )
    caveats: tuple[Caveat, ...] = Field(
        default=(),
        description="Handling caveats and descriptors; a caller must hold every one to see the record.",
        examples=[["PERSONAL"], ["UK EYES ONLY"]],
    )

    @model_validator(mode="before")
    @classmethod
    def _label_is_accepted(cls, data: Any) -> Any:
        # A record may carry its marking as one label, as the envelope does.
        return cls.parse(data).model_dump() if isinstance(data, str) else data

    @model_validator(mode="after")
    def _sensitive_only_with_official(self) -> Self:
        if self.sensitive and self.classification is not Classification.OFFICIAL:
            raise ValueError("the SENSITIVE flag only applies to OFFICIAL")
        if len(set(self.caveats)) != len(self.caveats):
            raise ValueError("a caveat is repeated")
        return self

    @property
    def label(self) -> str:
        """The marking as one label, e.g. ``OFFICIAL-SENSITIVE [PERSONAL]``."""
        text = self.classification.value + ("-SENSITIVE" if self.sensitive else "")
        if self.caveats:
            text += " [" + ", ".join(sorted(self.caveats)) + "]"
        return text

    @classmethod
    def parse(cls, label: str) -> ProtectiveMarking:
        """Read a label such as ``SECRET [UK EYES ONLY]``; unknown tiers are refused."""
        return _parse_label(label)

    @classmethod
    def _parse_uncached(cls, label: str) -> ProtectiveMarking:
        match = _LABEL.match(label.strip())
        if match is None:
            raise ValueError(
                f"unknown protective marking {label!r}; expected OFFICIAL, "
                "OFFICIAL-SENSITIVE, SECRET or TOP SECRET, optionally followed by [CAVEATS]"
            )
        raw = match.group("caveats")
        caveats = tuple(c.strip() for c in raw.split(",") if c.strip()) if raw else ()
        return cls(
            classification=Classification(match.group("tier")),
            sensitive=match.group("sensitive") is not None,
            caveats=caveats,
        )

    def dominates(self, other: ProtectiveMarking) -> bool:
        """True when a holder of this marking may see something marked ``other``."""
        if self.classification.rank < other.classification.rank:
            return False
        return set(other.caveats) <= set(self.caveats)


OFFICIAL = ProtectiveMarking()
"""The default marking: most police information is OFFICIAL."""


@functools.lru_cache(maxsize=1024)
def _parse_label(label: str) -> ProtectiveMarking:
    # Every envelope carries a label and a hub sees only a handful of distinct ones:
    # parsing each once keeps validation off the bus's hot path. Markings are frozen,
    # so sharing one instance is safe; refused labels raise and are not cached.
    return ProtectiveMarking._parse_uncached(label)


def normalised_label(label: str) -> str:
    """``label`` in canonical form (caveats sorted), or ``ValueError`` naming what is wrong."""
    return _parse_label(label).label
