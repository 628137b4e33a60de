"""What a flow is, what it reports, and the running force it runs against.

A *flow* is one of DESIGN.md's jobs (checks from the street, dispatch to the
car, ...). It drives the simulators and the hub's API the way the real systems
and officers would, then checks, at the far end, that what should have arrived
did arrive and nothing that should not. The same ``Flow`` objects back the demo's
live display and the end-to-end tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from polestar.config import HubConfig
from polestar.sims.synthetic import World


@dataclass(frozen=True, slots=True)
class Force:
    """A running hub wired to every simulator.

    Attributes:
        hub_url: the hub's base URL, e.g. ``http://127.0.0.1:8431``.
        sims: simulator name (``pnc``, ``cad``, ``call-handling``, ...) to its base URL.
        world: the synthetic world the simulators share (same seed).
        config: the hub's configuration as started.
        data_dir: the folder holding the hub's and simulators' files for this run.
        token: a bearer token for the hub's API (``Authorization: Bearer ...``), or None while the
            hub runs without authentication.
    """

    hub_url: str
    sims: Mapping[str, str]
    world: World
    config: HubConfig
    data_dir: Path
    token: str | None = None

    def hub_headers(self) -> dict[str, str]:
        """Headers every call to the hub's API carries (the bearer token when there is one)."""
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}


@dataclass(slots=True)
class FlowOutcome:
    """What one run of a flow did: counted at the far end, not assumed from what was sent."""

    number: int
    title: str
    messages: int = 0
    """Messages that completed the flow end to end."""
    failures: int = 0
    """Messages that did not arrive, arrived wrong, or were refused when they should not be."""
    dead_letters: int = 0
    """Messages the hub dead-lettered during the run (expected ones included, and said so in notes)."""
    latencies_ms: list[float] = field(default_factory=list)
    """End-to-end latency of each completed message, in milliseconds."""
    problems: list[str] = field(default_factory=list)
    """Each failure in words: what, where, why."""
    notes: list[str] = field(default_factory=list)
    """What the run showed that is not a failure (an expected refusal, a breaker opening)."""

    @property
    def ok(self) -> bool:
        """True when something went through and nothing failed."""
        return self.messages > 0 and self.failures == 0 and not self.problems


Progress = Callable[[str], None]
"""Told one short line each time something moves (``"CAD → hub: incident 0042 dispatched to CX21"``)."""


class Flow(Protocol):
    """One of DESIGN.md's flows, runnable against a ``Force``."""

    number: int
    """The flow's number in DESIGN.md."""
    title: str
    """Its short title, e.g. ``"Checks from the street"``."""

    async def run(self, force: Force, *, count: int, progress: Progress) -> FlowOutcome:
        """Drive ``count`` messages through the flow and check them at the far end.

        Must finish within a bounded time (a flow waits with timeouts, never forever) and
        report problems in the outcome rather than raise.
        """
        ...
