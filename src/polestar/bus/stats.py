"""What the bus reports about itself: counts for ``polestar bus stats`` (``BusEngine.stats``).

Part of the broker contract (``polestar.bus.contract`` re-exports both), kept
apart because they describe a bus rather than say what it promises.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class GroupStats:
    """One consumer group's backlog."""

    group: str
    pending: int
    in_flight: int
    redelivering: int
    dead_letters: int
    last_sequence: int


@dataclass(frozen=True, slots=True)
class BusStats:
    """What ``polestar bus stats`` shows."""

    engine: str
    messages: int
    first_sequence: int
    last_sequence: int
    bytes: int
    dead_letters: int
    groups: tuple[GroupStats, ...] = field(default_factory=tuple)
