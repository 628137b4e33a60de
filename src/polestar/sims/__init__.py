"""Simulators of the systems a force runs, each a small real server speaking that system's protocol.

============================  =====================================================================
module                        simulates
============================  =====================================================================
``polestar.sims.pnc``         PNC person and vehicle enquiries (SOAP 1.1), every enquiry logged
``polestar.sims.cad``         CAD: incidents, grading, units; events out by webhook, status in
``polestar.sims.calls``       call handling: a feed of call records with crime indicators
``polestar.sims.crime``       crime recording: draft report in, crime reference number out
``polestar.sims.custody``     custody episodes as CSV extract files (and optionally POSTs)
``polestar.sims.warehouse``   data warehouse: a folder watcher checking batches against manifests
``polestar.sims.footwear``    National Footwear Database: a REST sink enforcing an allow-list
``polestar.sims.prosecutor``  prosecutor gateway: case files acknowledged, accepted or rejected
``polestar.sims.intelligence``  intelligence platform: a feed sink, optionally allow-listed
``polestar.sims.device``      an officer's tablet / in-vehicle app as a client of the hub
============================  =====================================================================

All of them draw on one seeded ``synthetic.World`` and share the ``/_sim``
admin surface (``harness``): latency, injected 5xx, an outage switch and a
request log. A simulator is a stranger to the hub: this package imports
nothing of Polestar outside ``polestar.sims`` (a test holds it to that).
``python -m polestar.sims`` runs them all.
"""

from __future__ import annotations

from polestar.sims.harness import SimControls, install_controls
from polestar.sims.runner import SIM_ORDER, run_all, serve_all
from polestar.sims.serving import run, serve
from polestar.sims.synthetic import World

__all__ = ["SIM_ORDER", "SimControls", "World", "install_controls", "run", "run_all", "serve", "serve_all"]
