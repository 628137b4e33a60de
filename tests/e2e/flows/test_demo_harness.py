"""The running force itself: every simulator and the hub up, wired by variables, and gone afterwards."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest

from polestar.config import Profile
from polestar.demo.force_config import FORCE_EXAMPLE_DIR
from polestar.demo.harness import ForceFailedToStart, force_variables, running_force, sim_variable
from polestar.errors import ConfigError
from polestar.sims.runner import SIM_ORDER


def _pooled(thread: threading.Thread) -> bool:
    return thread.name.startswith(("asyncio_", "AnyIO worker thread"))


def _refused(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return False
    except OSError:
        return True


async def test_force_runs_the_hub_ready_and_every_simulator(force):
    assert set(force.sims) == set(SIM_ORDER)
    async with httpx.AsyncClient(timeout=10) as client:
        ready = await client.get(f"{force.hub_url}/ready", headers=force.hub_headers())
        assert ready.status_code == 200, ready.text
        for name, url in force.sims.items():
            state = await client.get(f"{url}/_sim/state")
            assert state.status_code == 200, (name, state.text)
    assert force.config.integration_dir == FORCE_EXAMPLE_DIR / "integration"
    assert force.config.data_dir == force.data_dir / "hub"
    assert force.world.people, "the simulators' shared world is there for the flows"


@pytest.mark.parametrize("profile", [Profile.EMBEDDED])
async def test_force_leaves_no_server_task_or_port_behind(tmp_path, profile):
    before = asyncio.all_tasks()
    threads_before = set(threading.enumerate())
    async with running_force(profile, tmp_path) as force:
        urls = [force.hub_url, *force.sims.values()]
        assert not any(_refused(url) for url in urls)
    assert all(_refused(url) for url in urls)
    assert asyncio.all_tasks() - before == set()
    # Thread pools (asyncio's default executor, AnyIO's workers) outlive a run by design; nothing else may.
    left = [t.name for t in threading.enumerate() if t not in threads_before and not _pooled(t)]
    assert left == []


@pytest.mark.postgres
@pytest.mark.nats
async def test_cluster_force_of_its_own_namespace_removes_it_afterwards(tmp_path, postgres_url, nats_url):
    async with running_force("cluster", tmp_path, postgres_url=postgres_url, nats_url=nats_url) as force:
        schema = force.config.bus.subject_prefix.replace("-", "_")  # type: ignore[union-attr]
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{force.hub_url}/ready")).status_code == 200
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        found = await conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        assert await found.fetchall() == []


def test_variables_name_each_simulator_the_hub_and_the_folder(tmp_path):
    variables = force_variables("http://127.0.0.1:1", {"call-handling": "http://127.0.0.1:2"}, tmp_path)
    assert variables == {
        "POLESTAR_SIM_CALL_HANDLING_URL": "http://127.0.0.1:2",
        "POLESTAR_HUB_URL": "http://127.0.0.1:1",
        "POLESTAR_FORCE_DIR": str(tmp_path),
    }
    assert [sim_variable(name) for name in SIM_ORDER] == [
        "POLESTAR_SIM_PNC_URL",
        "POLESTAR_SIM_CAD_URL",
        "POLESTAR_SIM_CALL_HANDLING_URL",
        "POLESTAR_SIM_CRIME_RECORDING_URL",
        "POLESTAR_SIM_CUSTODY_URL",
        "POLESTAR_SIM_WAREHOUSE_URL",
        "POLESTAR_SIM_FOOTWEAR_URL",
        "POLESTAR_SIM_PROSECUTOR_URL",
        "POLESTAR_SIM_INTELLIGENCE_URL",
    ]


def _example(tmp_path, connector_url: str):
    example = tmp_path / "example"
    (example / "integration" / "connectors").mkdir(parents=True)
    shutil.copy(FORCE_EXAMPLE_DIR / "polestar.yaml", example / "polestar.yaml")
    (example / "integration" / "connectors" / "pnc.yaml").write_text(
        "connectors:\n"
        "  - name: pnc-enquiries\n"
        "    kind: http\n"
        "    format: json\n"
        "    outbound:\n"
        f"      url: {connector_url}\n",
        encoding="utf-8",
    )
    return example


async def test_connectors_are_wired_to_the_simulators_by_variables(tmp_path, monkeypatch):
    monkeypatch.delenv("POLESTAR_SIM_PNC_URL", raising=False)
    example = _example(tmp_path, "${POLESTAR_SIM_PNC_URL}/enquiries")
    async with (
        running_force("embedded", tmp_path / "run", example_dir=example) as force,
        httpx.AsyncClient() as client,
    ):
        connectors = (await client.get(f"{force.hub_url}/connectors", headers=force.hub_headers())).json()[
            "connectors"
        ]
    assert [c["name"] for c in connectors] == ["pnc-enquiries"]


async def test_a_force_whose_integration_is_invalid_says_where_and_stops(tmp_path):
    example = _example(tmp_path, "${POLESTAR_SIM_NO_SUCH_URL}/enquiries")
    with pytest.raises(ForceFailedToStart) as raised:
        async with running_force("embedded", tmp_path / "run", example_dir=example, ready_timeout=3):
            pytest.fail("the hub should not have been ready")
    message = str(raised.value)
    assert "not ready in 3 s" in message
    assert "pnc.yaml:6:12" in message
    assert "`${POLESTAR_SIM_NO_SUCH_URL}` is not set" in message


async def test_a_missing_hub_configuration_is_named_before_anything_starts(tmp_path):
    with pytest.raises(ConfigError, match=r"polestar\.yaml: No such file"):
        async with running_force("embedded", tmp_path / "run", example_dir=tmp_path):
            pytest.fail("should not start")


async def test_a_cluster_force_says_when_postgresql_is_out_of_reach(tmp_path, unique):
    with pytest.raises(
        ForceFailedToStart, match=r"PostgreSQL at postgresql://polestar:\*\*\*@127\.0\.0\.1:1/x"
    ):
        async with running_force(
            "cluster",
            tmp_path,
            postgres_url="postgresql+asyncpg://polestar:secret@127.0.0.1:1/x",
            nats_url="nats://127.0.0.1:1",
            namespace=unique,
        ):
            pytest.fail("should not start")
