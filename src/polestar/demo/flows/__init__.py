"""The flows of DESIGN.md the demo runs, in order: one module per flow, listed here by hand.

``all_flows()`` is the registry ``polestar demo`` runs and the flow tests can
walk. A flow is added by importing its class and listing it below: explicit,
so that a flow that fails to import fails loudly rather than disappearing.
"""

from __future__ import annotations

from polestar.demo.contract import Flow
from polestar.demo.flows.casefile import CaseFileFlow
from polestar.demo.flows.checks import ChecksFlow
from polestar.demo.flows.crime import CallToCrimeFlow
from polestar.demo.flows.custody import CustodyOutwardsFlow
from polestar.demo.flows.dispatch import DispatchFlow
from polestar.demo.flows.intelligence import IntelligenceFeedFlow


def all_flows() -> list[Flow]:
    """A fresh instance of every flow, in DESIGN.md's order."""
    flows: list[Flow] = [
        ChecksFlow(),
        DispatchFlow(),
        CallToCrimeFlow(),
        CustodyOutwardsFlow(),
        CaseFileFlow(),
        IntelligenceFeedFlow(),
    ]
    return sorted(flows, key=lambda flow: flow.number)
