"""Flows 3, 4, 7 and 8 report a system that cannot be reached; they never raise or hang."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from polestar.config import HubConfig
from polestar.demo.contract import Flow, Force
from polestar.demo.flows.casefile import CaseFileFlow
from polestar.demo.flows.crime import CallToCrimeFlow
from polestar.demo.flows.custody import CustodyOutwardsFlow
from polestar.demo.flows.intelligence import IntelligenceFeedFlow
from polestar.sims.runner import SIM_ORDER
from polestar.sims.synthetic import World

NOWHERE = "http://127.0.0.1:9"
"""The discard port: nothing listens, so every call is refused at once."""


@pytest.mark.parametrize(
    "flow",
    [
        CallToCrimeFlow(timeout=1),
        CustodyOutwardsFlow(timeout=1),
        CaseFileFlow(timeout=1),
        IntelligenceFeedFlow(timeout=1),
    ],
    ids=lambda flow: f"flow{flow.number}",
)
async def test_a_flow_against_systems_that_are_down_reports_it_and_returns(
    flow: Flow, tmp_path: Path
) -> None:
    force = Force(
        hub_url=NOWHERE,
        sims=dict.fromkeys(SIM_ORDER, NOWHERE),
        world=World.build(1, people=20, vehicles=5),
        config=HubConfig(data_dir=tmp_path),
        data_dir=tmp_path,
    )
    started = time.monotonic()
    outcome = await flow.run(force, count=2, progress=lambda _: None)
    assert time.monotonic() - started < 15
    assert not outcome.ok
    assert outcome.failures >= 1
    assert any("ConnectError" in problem for problem in outcome.problems), outcome.problems
