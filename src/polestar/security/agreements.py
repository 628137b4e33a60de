"""Data-sharing agreements as configuration: who may receive which data, why, and how much of it.

An agreement names its recipients (the outbound connectors that reach the
partner or system), the categories of data it covers (an event's category is
the first word of its type: ``custody.episode.opened`` is ``custody``), the
purposes it serves, the highest marking the partner may receive, and the
fields it may receive (minimisation). ``AgreementBook.check`` finds the
agreement allowing a flow, or says why none does.

::

    agreements:
      - name: footwear-impressions
        partner: National Footwear Database
        recipients: [footwear-api]
        categories: [custody]
        purposes: [footwear comparison]
        clearance: OFFICIAL-SENSITIVE
        minimise: {keep: [id, custody_reference, footwear]}
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from polestar.errors import ConfigError
from polestar.model.envelope import Envelope
from polestar.model.marking import ProtectiveMarking
from polestar.model.timeutil import utcnow

log = logging.getLogger(__name__)

Category = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class Minimisation(BaseModel):
    """Which fields of the payload the partner receives; everything else is removed before mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    keep: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        min_length=1,
        description="Dotted field paths kept, e.g. footwear.pattern.",
        examples=[["id", "footwear"]],
    )


class Agreement(BaseModel):
    """One data-sharing agreement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name = Field(description="Recorded with every flow it allows.", examples=["footwear-impressions"])
    partner: str = Field(min_length=1, max_length=200, description="The partner or system, in words.")
    recipients: list[Name] = Field(min_length=1, description="Outbound connectors it covers.")
    categories: list[Category] = Field(min_length=1, description="Categories of data it covers.")
    purposes: list[Annotated[str, StringConstraints(min_length=1, max_length=500)]] = Field(
        min_length=1, description="Purposes it serves; the first is the standing purpose of automatic flows."
    )
    clearance: str = Field(default="OFFICIAL", description="The highest marking the partner may receive.")
    minimise: Minimisation | None = Field(
        default=None, description="Fields kept; unset keeps the whole record."
    )
    valid_from: date | None = Field(default=None, description="First day it applies.")
    valid_until: date | None = Field(default=None, description="Last day it applies.")

    @field_validator("clearance")
    @classmethod
    def _clearance_is_a_marking(cls, value: str) -> str:
        return ProtectiveMarking.parse(value).label

    def in_force(self, today: date) -> bool:
        """Whether it applies on ``today``."""
        return (self.valid_from is None or self.valid_from <= today) and (
            self.valid_until is None or today <= self.valid_until
        )


class AgreementFile(BaseModel):
    """One YAML file of agreements."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agreements: list[Agreement] = Field(default_factory=list)


@dataclass(frozen=True)
class AgreementDecision:
    """Whether a flow may happen, under which agreement, why, and what is sent."""

    allowed: bool
    agreement: str | None
    reason: str
    purpose: str | None
    envelope: Envelope


class AgreementBook:
    """Every agreement in a folder; reloaded when a file in it changes."""

    def __init__(self, agreements: list[Agreement], *, folder: Path | None = None) -> None:
        self.agreements = agreements
        self.folder = folder
        self._signature = _signature(folder)

    @classmethod
    def load(cls, folder: Path | None) -> AgreementBook:
        """Read ``folder/*.yaml`` (none: no agreements, so no flow is allowed); ``ConfigError`` if invalid."""
        if folder is None or not folder.is_dir():
            return cls([], folder=folder)
        agreements: list[Agreement] = []
        problems: list[tuple[str, str]] = []
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            try:
                document = yaml.safe_load(path.read_text("utf-8")) or {}
                agreements.extend(AgreementFile.model_validate(document).agreements)
            except yaml.YAMLError as exc:
                problems.append((str(path), f"is not YAML: {exc}"))
            except ValidationError as exc:
                problems.extend(
                    (f"{path} {'.'.join(str(p) for p in e['loc'])}", e["msg"]) for e in exc.errors()
                )
        names = [a.name for a in agreements]
        problems.extend(
            (str(folder), f"agreement {n!r} is defined twice")
            for n in sorted(set(names))
            if names.count(n) > 1
        )
        if problems:
            raise ConfigError(str(folder), problems)
        return cls(agreements, folder=folder)

    def reloaded(self) -> AgreementBook:
        """This book, or a fresh one if a file changed; an invalid edit keeps this one (and is logged)."""
        if _signature(self.folder) == self._signature:
            return self
        try:
            return AgreementBook.load(self.folder)
        except ConfigError as exc:
            log.error("agreements not reloaded, the previous ones stay in force: %s", exc)  # noqa: TRY400 - problems, not a traceback
            self._signature = _signature(self.folder)
            return self

    def check(self, recipient: str, envelope: Envelope, *, today: date | None = None) -> AgreementDecision:
        """The agreement allowing ``envelope`` to go to ``recipient``, or why none does."""
        today = today or utcnow().date()
        category = envelope.type.split(".", 1)[0]
        stated = (envelope.purpose or "").strip()
        marking = envelope.marking
        reasons: list[str] = []
        candidates = [a for a in self.agreements if recipient in a.recipients]
        if not candidates:
            return AgreementDecision(
                allowed=False,
                agreement=None,
                reason=f"no data-sharing agreement covers recipient {recipient!r}",
                purpose=stated or None,
                envelope=envelope,
            )
        for agreement in candidates:
            why = _mismatch(agreement, category, stated, marking, today)
            if why is not None:
                reasons.append(f"{agreement.name}: {why}")
                continue
            purpose = stated or agreement.purposes[0]
            sent = envelope
            if agreement.minimise is not None and isinstance(envelope.data, dict):
                sent = envelope.model_copy(update={"data": minimised(envelope.data, agreement.minimise.keep)})
            return AgreementDecision(
                allowed=True,
                agreement=agreement.name,
                reason=f"allowed by {agreement.name}",
                purpose=purpose,
                envelope=sent,
            )
        return AgreementDecision(
            allowed=False,
            agreement=None,
            reason="; ".join(reasons),
            purpose=stated or None,
            envelope=envelope,
        )


def _mismatch(
    agreement: Agreement, category: str, stated: str, marking: ProtectiveMarking, today: date
) -> str | None:
    if not agreement.in_force(today):
        return f"not in force on {today.isoformat()}"
    if category not in agreement.categories:
        return f"does not cover category {category!r} (covers {', '.join(agreement.categories)})"
    if stated and not any(_serves(p, stated) for p in agreement.purposes):
        return f"does not serve the purpose {stated!r}"
    clearance = ProtectiveMarking.parse(agreement.clearance)
    too_sensitive = marking.sensitive and not clearance.sensitive and clearance.classification.rank == 0
    if not clearance.dominates(marking) or too_sensitive:
        return f"the data is marked {marking.label}, above the partner's {clearance.label}"
    return None


def _serves(purpose: str, stated: str) -> bool:
    # A stated purpose names the agreement's purpose first and may say more after it:
    # "roadside check: vehicle stopped for a defective light" serves "roadside check".
    wanted, said = purpose.casefold().strip(), stated.casefold().strip()
    return said == wanted or (said.startswith(wanted) and not said[len(wanted)].isalnum())


def minimised(data: dict[str, Any], keep: list[str]) -> dict[str, Any]:
    """Only the dotted paths in ``keep`` of ``data`` (a path into a list applies to every item)."""
    whole: set[str] = set()
    inner: dict[str, list[str]] = {}
    for path in keep:
        head, _, rest = path.partition(".")
        if rest:
            inner.setdefault(head, []).append(rest)
        else:
            whole.add(head)
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key in whole:
            kept[key] = value
        elif key in inner and isinstance(value, dict):
            kept[key] = minimised(value, inner[key])
        elif key in inner and isinstance(value, list):
            kept[key] = [minimised(v, inner[key]) for v in value if isinstance(v, dict)]
    return kept


def _signature(folder: Path | None) -> tuple[tuple[str, float, int], ...]:
    if folder is None or not folder.is_dir():
        return ()
    try:
        return tuple(
            (p.name, p.stat().st_mtime, p.stat().st_size) for p in sorted(folder.iterdir()) if p.is_file()
        )
    except OSError:
        return ()
