"""Running the flows one after another against a force, each bounded in time, none able to crash the demo.

The flows run in turn rather than together: each one counts what the hub
dead-lettered during its own run, which only means something while it is
the only one running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from polestar.demo.board import FlowBoard
from polestar.demo.contract import Flow, FlowOutcome, Force

FLOW_TIMEOUT_SECONDS = 120.0
"""The longest one flow may run before it is stopped and counted as failed."""


async def run_flows(
    force: Force,
    flows: Sequence[Flow],
    *,
    count: int,
    board: FlowBoard,
    timeout: float = FLOW_TIMEOUT_SECONDS,
) -> list[FlowOutcome]:
    """Run each of ``flows`` with ``count`` messages, telling ``board`` as they go; their outcomes."""
    return [await run_flow(force, flow, count=count, board=board, timeout=timeout) for flow in flows]


async def run_flow(
    force: Force, flow: Flow, *, count: int, board: FlowBoard, timeout: float = FLOW_TIMEOUT_SECONDS
) -> FlowOutcome:
    """Run one flow; a flow that raises or overruns is reported as failed with the reason."""
    board.started(flow)
    started = time.monotonic()
    try:
        outcome = await asyncio.wait_for(
            flow.run(force, count=count, progress=lambda line: board.progress(flow, line)), timeout
        )
    except TimeoutError:
        outcome = FlowOutcome(
            flow.number, flow.title, failures=1, problems=[f"the flow did not finish in {timeout:g} s"]
        )
    except Exception as exc:  # noqa: BLE001 - a flow must not raise; if one does, say so and go on
        outcome = FlowOutcome(
            flow.number, flow.title, failures=1, problems=[f"the flow raised {type(exc).__name__}: {exc}"]
        )
    board.finished(flow, outcome, time.monotonic() - started)
    return outcome
