"""The running force for the flow tests: every simulator and a real hub, in both profiles.

A flow test takes ``force`` and runs once per profile::

    async def test_custody(force: Force) -> None:
        outcome = await CustodyOutwardsFlow().run(force, count=5, progress=lambda _: None)
        assert outcome.ok, outcome.problems

The cluster run uses the real PostgreSQL and NATS, in a schema and a stream
namespace of the test's own, removed afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from polestar.bus.jetstream import JetStreamEngine
from polestar.demo.contract import Force
from polestar.demo.force_config import cluster_resources
from polestar.demo.harness import running_force
from polestar.errors import BusError


@pytest.fixture(
    params=[
        pytest.param("embedded", id="embedded"),
        pytest.param("cluster", id="cluster", marks=[pytest.mark.postgres, pytest.mark.nats]),
    ]
)
async def force(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Force]:
    """A running force for one test, embedded or cluster."""
    if request.param == "embedded":
        async with running_force("embedded", tmp_path) as running:
            yield running
        return
    postgres_url: str = request.getfixturevalue("postgres_url")
    nats_url: str = request.getfixturevalue("nats_url")
    schema: str = request.getfixturevalue("postgres_schema")  # created and dropped by the fixture
    try:
        async with running_force(
            "cluster", tmp_path, postgres_url=postgres_url, nats_url=nats_url, namespace=schema
        ) as running:
            yield running
    finally:
        cleaner = JetStreamEngine(cluster_resources(postgres_url, nats_url, schema).bus)
        with contextlib.suppress(BusError):
            await cleaner.start()
            await cleaner.destroy()
        await cleaner.close()
