"""The demo's board, runner and summary: what a newcomer sees while the flows run and after."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console

from polestar.config import HubConfig
from polestar.demo.board import FlowBoard, FlowStatus, percentile, summary_table
from polestar.demo.contract import FlowOutcome, Force, Progress
from polestar.demo.flows import all_flows
from polestar.demo.runner import run_flows
from polestar.sims.synthetic import World


class CountingFlow:
    """A flow whose far end is itself: it reports each message it moves and counts it."""

    number = 1
    title = "Counting"

    async def run(self, force: Force, *, count: int, progress: Progress) -> FlowOutcome:
        outcome = FlowOutcome(self.number, self.title)
        for n in range(count):
            progress(f"counter → {force.hub_url}: message {n}")
            outcome.messages += 1
            outcome.latencies_ms.append(float(n + 1))
        return outcome


class RaisingFlow:
    number = 2
    title = "Raising"

    async def run(self, force: Force, *, count: int, progress: Progress) -> FlowOutcome:
        raise RuntimeError("the simulator answered nonsense")


class StuckFlow:
    number = 3
    title = "Stuck"

    async def run(self, force: Force, *, count: int, progress: Progress) -> FlowOutcome:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def _force(tmp_path: Path) -> Force:
    return Force(
        hub_url="http://127.0.0.1:1",
        sims={},
        world=World.build(7, people=20, vehicles=10),
        config=HubConfig(data_dir=tmp_path),
        data_dir=tmp_path,
    )


async def test_each_flow_is_run_and_a_raising_or_stuck_one_is_failed_with_the_reason(tmp_path):
    flows = [CountingFlow(), RaisingFlow(), StuckFlow()]
    lines: list[str] = []
    board = FlowBoard(flows, echo=lines.append)
    counted, raised, stuck = await run_flows(_force(tmp_path), flows, count=3, board=board, timeout=0.2)

    assert counted.ok
    assert counted.messages == 3
    assert not raised.ok
    assert raised.problems == ["the flow raised RuntimeError: the simulator answered nonsense"]
    assert not stuck.ok
    assert stuck.problems == ["the flow did not finish in 0.2 s"]
    assert [row.status for row in board.rows.values()] == [
        FlowStatus.PASSED,
        FlowStatus.FAILED,
        FlowStatus.FAILED,
    ]
    assert board.rows[1].moved == 3
    assert "flow 1: counter → http://127.0.0.1:1: message 2" in lines
    assert any(line.startswith("flow 1 Counting: passed in ") for line in lines)
    assert "flow 2: problem: the flow raised RuntimeError: the simulator answered nonsense" in lines


def test_board_draws_the_flows_and_the_latest_movements():
    flows = [CountingFlow()]
    board = FlowBoard(flows)
    board.started(flows[0])
    for n in range(15):
        board.progress(flows[0], f"line {n}")
    console = Console(width=120, record=True)
    console.print(board.render())
    text = console.export_text()
    assert "Counting" in text
    assert "running" in text
    assert "[1] line 14" in text
    assert "[1] line 4" not in text


def test_summary_gives_each_flow_its_counts_and_latency_percentiles():
    outcomes = [
        FlowOutcome(
            1, "Checks from the street", messages=100, latencies_ms=[float(n) for n in range(1, 101)]
        ),
        FlowOutcome(4, "Custody outwards", failures=2, dead_letters=1, problems=["footwear: refused"]),
    ]
    console = Console(width=120, record=True)
    console.print(summary_table(outcomes))
    rows = [line for line in console.export_text().splitlines() if "│" in line]
    assert [cell.strip() for cell in rows[0].split("│")[1:-1]] == [
        "1", "Checks from the street", "passed", "100", "0", "0", "50", "99",
    ]  # fmt: skip
    assert [cell.strip() for cell in rows[1].split("│")[1:-1]] == [
        "4", "Custody outwards", "FAILED", "0", "2", "1", "—", "—",
    ]  # fmt: skip


def test_percentiles_are_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert percentile([float(n) for n in range(1, 1001)], 99) == 990.0


def test_the_registry_lists_the_flows_of_the_demo_in_design_order():
    assert [(flow.number, flow.title) for flow in all_flows()] == [
        (1, "Checks from the street"),
        (2, "Dispatch to the car"),
        (3, "Call to crime report"),
        (4, "Custody outwards"),
        (7, "Case file to the prosecutor"),
        (8, "Feed to intelligence"),
    ]
