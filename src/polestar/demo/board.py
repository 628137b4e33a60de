"""What the demo shows while the flows run, and the summary after.

``FlowBoard`` keeps each flow's state (waiting, running, passed, failed), what
it has moved so far and the latest lines of what is moving where. At a
terminal it is drawn by Rich's ``Live``; elsewhere (CI, a pipe) each event is
one plain line instead, so logs stay readable. ``summary_table`` is the table
printed once every flow has finished.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from polestar.demo.contract import Flow, FlowOutcome

LATEST_LINES = 10
"""How many of the latest movement lines the live display keeps on screen."""


class FlowStatus(StrEnum):
    """Where a flow is in the demo's run."""

    WAITING = "waiting"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


_STYLE = {
    FlowStatus.WAITING: "dim",
    FlowStatus.RUNNING: "bold yellow",
    FlowStatus.PASSED: "bold green",
    FlowStatus.FAILED: "bold red",
}
_MARK = {FlowStatus.WAITING: "·", FlowStatus.RUNNING: "▶", FlowStatus.PASSED: "✓", FlowStatus.FAILED: "✗"}


@dataclass(slots=True)
class FlowRow:
    """One flow on the board."""

    number: int
    title: str
    status: FlowStatus = FlowStatus.WAITING
    moved: int = 0
    """Movement lines the flow has reported so far."""
    outcome: FlowOutcome | None = None
    seconds: float = 0.0


@dataclass
class FlowBoard:
    """The flows' state, drawn live or echoed line by line.

    Attributes:
        echo: given, each event is also written as one plain line (for non-terminals).
    """

    flows: Sequence[Flow]
    echo: Callable[[str], None] | None = None
    rows: dict[int, FlowRow] = field(init=False)
    latest: deque[str] = field(init=False)

    def __post_init__(self) -> None:
        self.rows = {flow.number: FlowRow(flow.number, flow.title) for flow in self.flows}
        self.latest = deque(maxlen=LATEST_LINES)

    def started(self, flow: Flow) -> None:
        """``flow`` has begun."""
        self.rows[flow.number].status = FlowStatus.RUNNING
        self._say(f"flow {flow.number} {flow.title}: started")

    def progress(self, flow: Flow, line: str) -> None:
        """``flow`` moved something; ``line`` says what and where."""
        self.rows[flow.number].moved += 1
        self.latest.append(f"[{flow.number}] {line}")
        self._say(f"flow {flow.number}: {line}")

    def finished(self, flow: Flow, outcome: FlowOutcome, seconds: float) -> None:
        """``flow`` is done with ``outcome``."""
        row = self.rows[flow.number]
        row.outcome, row.seconds = outcome, seconds
        row.status = FlowStatus.PASSED if outcome.ok else FlowStatus.FAILED
        self._say(
            f"flow {flow.number} {flow.title}: {row.status.value} in {seconds:.1f} s "
            f"(messages {outcome.messages}, failures {outcome.failures}, dead letters {outcome.dead_letters})"
        )
        for problem in outcome.problems:
            self._say(f"flow {flow.number}: problem: {problem}")

    def render(self) -> RenderableType:
        """The board as Rich draws it: the flows' table above the latest movements."""
        table = Table(title="Polestar demo: the flows", title_justify="left", expand=True)
        table.add_column("#", justify="right", width=2)
        table.add_column("flow")
        table.add_column("status")
        table.add_column("moved", justify="right")
        table.add_column("messages", justify="right")
        table.add_column("failures", justify="right")
        table.add_column("dead letters", justify="right")
        for row in self.rows.values():
            done = row.outcome
            table.add_row(
                str(row.number),
                row.title,
                Text(f"{_MARK[row.status]} {row.status.value}", style=_STYLE[row.status]),
                str(row.moved),
                "" if done is None else str(done.messages),
                "" if done is None else Text(str(done.failures), style="red" if done.failures else ""),
                "" if done is None else str(done.dead_letters),
            )
        moving = Text(
            "\n".join(self.latest) or "waiting for the first message…", overflow="ellipsis", no_wrap=True
        )
        return Group(table, Panel(moving, title="what is moving where", title_align="left"))

    def _say(self, line: str) -> None:
        if self.echo is not None:
            self.echo(line)


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` 50 for the median), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_table(outcomes: Sequence[FlowOutcome]) -> Table:
    """Per flow: result, messages, failures, dead letters and p50/p99 end-to-end latency."""
    table = Table(title="Summary", title_justify="left")
    for name, justify in (
        ("#", "right"),
        ("flow", "left"),
        ("result", "left"),
        ("messages", "right"),
        ("failures", "right"),
        ("dead letters", "right"),
        ("p50 ms", "right"),
        ("p99 ms", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for outcome in outcomes:
        result = Text("passed", style="bold green") if outcome.ok else Text("FAILED", style="bold red")
        table.add_row(
            str(outcome.number),
            outcome.title,
            result,
            str(outcome.messages),
            str(outcome.failures),
            str(outcome.dead_letters),
            _ms(percentile(outcome.latencies_ms, 50)),
            _ms(percentile(outcome.latencies_ms, 99)),
        )
    return table


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}" if value >= 10 else f"{value:.1f}"
