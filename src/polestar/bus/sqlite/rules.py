"""What a claim or a settlement needs to know about the consumer group it works for."""

from __future__ import annotations

from dataclasses import dataclass

from polestar.bus.sqlite.filters import compile_filters


@dataclass(frozen=True, slots=True)
class GroupRules:
    """What a claim needs to know about the group it claims for."""

    group: str
    filters: tuple[str, ...]
    ordered: bool
    ack_wait: float
    max_attempts: int

    def matches(self, subject: str) -> bool:
        """True when ``subject`` passes one of the group's filters."""
        pattern = compile_filters(self.filters)
        return pattern is None or pattern.match(subject) is not None
