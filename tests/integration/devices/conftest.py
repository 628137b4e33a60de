"""Fixtures: a hub wired to the PNC and CAD simulators with only the device gateway's files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from _device_hubs import CheckingHub, checking_hub, gateway_example

import polestar.cli  # noqa: F401 - imported before the harness, which the CLI also imports
from polestar.demo.contract import Force
from polestar.demo.harness import running_force
from polestar.sims.synthetic import World


@pytest.fixture(scope="session")
def world() -> World:
    """The synthetic world the simulators share (seed 2026), built once."""
    return World.build(2026)


@pytest.fixture
async def hub(tmp_path: Path, world: World) -> AsyncIterator[CheckingHub]:
    """A hub in this process whose gateway asks a served PNC simulator (the force's own gateway file)."""
    async with checking_hub(tmp_path, world) as found:
        yield found


@pytest.fixture
async def gateway_force(tmp_path: Path) -> AsyncIterator[Force]:
    """The embedded hub with the gateway, PNC and CAD, served on real ports by ``running_force``."""
    example = gateway_example(tmp_path / "example")
    async with running_force("embedded", tmp_path / "run", example_dir=example) as force:
        # CAD posts its events to the hub's ingest, which needs a token like every route.
        cad = force.sims["cad"]
        async with httpx.AsyncClient(timeout=10) as http:
            current = (await http.get(f"{cad}/_sim/events")).json()
            url = current.get("url") or f"{force.hub_url}/ingest/cad"
            hook = await http.post(f"{cad}/_sim/webhook", json={"url": url, "headers": force.hub_headers()})
            hook.raise_for_status()
        yield force
