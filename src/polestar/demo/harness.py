"""The running force: every simulator and a real hub on free ports, wired by variables.

``running_force`` is what ``polestar demo`` and the end-to-end flow tests run
against::

    async with running_force("embedded", tmp_path) as force:
        outcome = await CustodyOutwardsFlow().run(force, count=5, progress=print)

The simulators need the hub's URL (CAD posts its events there) and the hub's
connectors need the simulators' URLs, so the hub's socket is bound first, the
simulators start knowing its URL, and then the hub starts with the
simulators' URLs as the variables its integration files are filled in from
(``${POLESTAR_SIM_PNC_URL}``, see ``force_variables``). The variables go to
this hub only, never into ``os.environ``, so two forces can run in one process.

Files: the simulators' folders (``custody/``, ``warehouse/``) are directly
under ``data_dir`` (``POLESTAR_FORCE_DIR``), the hub's own under ``data_dir/hub``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Generator, Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from polestar.api import create_app
from polestar.config import HubConfig, Profile
from polestar.demo.contract import Force
from polestar.demo.force_config import (
    FORCE_EXAMPLE_DIR,
    ClusterResources,
    ForceFailedToStart,
    cluster_resources,
    force_hub_config,
    mint_token,
    prepare_cluster,
)
from polestar.sims.runner import build_apps
from polestar.sims.synthetic import World
from polestar.sockets import bind

FORCE_DIR_VARIABLE = "POLESTAR_FORCE_DIR"
"""The run's data folder: where file drops and sinks live."""
HUB_URL_VARIABLE = "POLESTAR_HUB_URL"
"""The hub's base URL, e.g. ``http://127.0.0.1:8431``."""
READY_TIMEOUT_SECONDS = 60.0
"""How long the hub may take to report ready (the cluster profile migrates PostgreSQL first)."""
STOP_TIMEOUT_SECONDS = 60.0
"""How long a server may take to stop before its task is cancelled. Longer than the hub's own
bound on each component's stop (``polestar.api.app.COMPONENT_STOP_SECONDS``): cancelling the
hub's server abandons its lifespan mid-stop, leaving connections open."""
_READY_POLL_SECONDS = 0.1
log = logging.getLogger(__name__)
_NAMESPACE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")

__all__ = [
    "FORCE_DIR_VARIABLE",
    "FORCE_EXAMPLE_DIR",
    "HUB_URL_VARIABLE",
    "ForceFailedToStart",
    "force_variables",
    "running_force",
    "sim_variable",
]


def sim_variable(name: str) -> str:
    """The variable holding simulator ``name``'s URL (``call-handling``: POLESTAR_SIM_CALL_HANDLING_URL)."""
    return f"POLESTAR_SIM_{name.upper().replace('-', '_')}_URL"


def force_variables(hub_url: str, sims: Mapping[str, str], data_dir: Path) -> dict[str, str]:
    """The variables a force's integration files are filled in from (besides the environment)."""
    variables = {sim_variable(name): url for name, url in sims.items()}
    variables[FORCE_DIR_VARIABLE] = str(data_dir)
    variables[HUB_URL_VARIABLE] = hub_url
    return variables


@contextlib.asynccontextmanager
async def running_force(
    profile: Profile | str,
    data_dir: Path,
    *,
    seed: int = 2026,
    postgres_url: str | None = None,
    nats_url: str | None = None,
    namespace: str | None = None,
    example_dir: Path = FORCE_EXAMPLE_DIR,
    ready_timeout: float = READY_TIMEOUT_SECONDS,
    hub_host: str = "127.0.0.1",
    hub_port: int = 0,
) -> AsyncIterator[Force]:
    """Start every simulator and a hub wired to them; yield the ``Force``; stop it all on leaving.

    Args:
        profile: ``embedded`` (SQLite under ``data_dir``) or ``cluster`` (PostgreSQL and JetStream).
        data_dir: the run's folder; created if missing.
        seed: the synthetic world's seed, shared by every simulator.
        postgres_url: cluster only: ``postgresql://USER@HOST:PORT/DB`` (any driver suffix).
        nats_url: cluster only: the NATS server, e.g. ``nats://127.0.0.1:4222``.
        namespace: cluster only: the PostgreSQL schema (created if missing) and the prefix of the
            JetStream streams and subjects, so runs side by side do not meet. Given, what the run
            made is left for the caller; None, a fresh one is made and removed afterwards.
        example_dir: the folder holding ``polestar.yaml``, ``cluster.yaml`` and ``integration/``.
        ready_timeout: seconds the hub may take to answer ``/ready`` with 200.
        hub_host: the interface the hub listens on (the simulators always listen on 127.0.0.1).
        hub_port: the hub's port; 0 picks a free one.

    Raises:
        ForceFailedToStart: naming what did not start (a busy port, a hub not ready in time and
            what its ``/ready`` said).
        ConfigError: the example's hub configuration is invalid (each problem located).
    """
    profile = Profile(profile)
    cluster, owned = _cluster(profile, postgres_url, nats_url, namespace)
    data_dir = await asyncio.to_thread(_made, data_dir)
    with _listening(hub_host, hub_port) as sock:
        port = int(sock.getsockname()[1])
        # Read first, so a broken configuration is reported before anything starts.
        config = force_hub_config(
            profile, data_dir, example_dir=example_dir, host=hub_host, port=port, cluster=cluster
        )
        hub_url = config.api.base_url(port)
        async with contextlib.AsyncExitStack() as stack:
            if cluster is not None:
                await prepare_cluster(cluster)
                if owned:
                    stack.push_async_callback(cluster.remove)
            world = await asyncio.to_thread(World.build, seed)
            sims = await stack.enter_async_context(_serving_sims(world, data_dir, hub_url))
            variables = {**os.environ, **force_variables(hub_url, sims, data_dir)}
            # Minted first: it makes the signing keys the hub then loads from its data folder.
            token = await asyncio.to_thread(mint_token, config)
            await stack.enter_async_context(_serving_hub(config, sock, variables, hub_url, ready_timeout))
            yield Force(
                hub_url=hub_url, sims=sims, world=world, config=config, data_dir=data_dir, token=token
            )


def _cluster(
    profile: Profile, postgres_url: str | None, nats_url: str | None, namespace: str | None
) -> tuple[ClusterResources | None, bool]:
    """The run's room in PostgreSQL and JetStream, and whether the harness owns it (no I/O)."""
    if profile is not Profile.CLUSTER:
        return None, False
    owned = namespace is None
    if namespace is None:
        namespace = f"force_{uuid.uuid4().hex[:10]}"
    if not _NAMESPACE.match(namespace):
        raise ValueError(
            f"namespace {namespace!r} must be lower-case letters, digits and _, starting with a letter"
        )
    if postgres_url is None or nats_url is None:
        raise ValueError("the cluster profile needs postgres_url and nats_url")
    return cluster_resources(postgres_url, nats_url, namespace), owned


def _made(folder: Path) -> Path:
    folder = Path(folder).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ForceFailedToStart(f"cannot create the run's folder {folder}: {exc.strerror or exc}") from exc
    return folder


@contextlib.contextmanager
def _listening(host: str, port: int) -> Generator[socket.socket, None, None]:
    """The hub's socket, bound before anything starts so the simulators can be told its URL."""
    try:
        sock = bind(host, port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ForceFailedToStart(f"cannot listen on {host}:{port} for the hub: {reason}") from exc
    try:
        yield sock
    finally:
        sock.close()


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to whoever runs the force (ten share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def _serving_sims(world: World, data_dir: Path, hub_url: str) -> AsyncIterator[dict[str, str]]:
    # Started and stopped together rather than one after another (as sims.serve_all does):
    # each uvicorn takes a tick or two to stop, and tests start many forces.
    servers = {
        name: _QuietServer(
            uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_config=None, access_log=False)
        )
        for name, app in build_apps(world, data_dir, hub_url=hub_url).items()
    }
    tasks = {
        name: asyncio.create_task(server.serve(), name=f"polestar-force-sim-{name}")
        for name, server in servers.items()
    }
    try:
        while not all(server.started for server in servers.values()):
            for name, task in tasks.items():
                if task.done():
                    raise ForceFailedToStart(f"the {name} simulator did not start: {_ended(task)}")
            await asyncio.sleep(0.01)
        yield {
            name: f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
            for name, server in servers.items()
        }
    finally:
        for server in servers.values():
            server.should_exit = True
        await _stop(tasks.values())


async def _stop(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Wait for servers told to exit; cancel any still running after ``STOP_TIMEOUT_SECONDS``."""
    pending = list(tasks)
    if not pending:
        return
    _, late = await asyncio.wait(pending, timeout=STOP_TIMEOUT_SECONDS)
    for task in late:
        log.error("%s did not stop within %g s; cancelling it", task.get_name(), STOP_TIMEOUT_SECONDS)
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


@contextlib.asynccontextmanager
async def _serving_hub(
    config: HubConfig,
    sock: socket.socket,
    variables: Mapping[str, str],
    hub_url: str,
    ready_timeout: float,
) -> AsyncIterator[None]:
    app = create_app(config, integration_variables=variables)
    server = _QuietServer(
        uvicorn.Config(
            app, lifespan="on", log_config=None, access_log=False, server_header=False, log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"polestar-force-hub-{hub_url}")
    try:
        await _wait_until_ready(server, task, hub_url, ready_timeout)
        yield
    finally:
        server.should_exit = True
        await _stop([task])


async def _wait_until_ready(
    server: uvicorn.Server, task: asyncio.Task[Any], hub_url: str, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    async with httpx.AsyncClient(base_url=hub_url, timeout=5.0) as client:
        while time.monotonic() < deadline:
            if task.done():
                raise ForceFailedToStart(f"the hub stopped while starting: {_ended(task)}")
            if server.started:
                try:
                    response = await client.get("/ready")
                except httpx.HTTPError as exc:
                    last = f"GET /ready failed: {exc!r}"
                else:
                    if response.status_code == 200:
                        return
                    last = f"GET /ready answered {response.status_code}: {_unready(response)}"
            await asyncio.sleep(_READY_POLL_SECONDS)
    raise ForceFailedToStart(f"the hub at {hub_url} was not ready in {timeout:g} s; {last}")


def _ended(task: asyncio.Task[Any]) -> str:
    if task.cancelled():
        return "cancelled"
    error = task.exception()
    return "its lifespan failed; the log says why" if error is None else repr(error)


def _unready(response: httpx.Response) -> str:
    try:
        components = response.json()["components"]
        return "; ".join(
            f"{c['name']} {c['status']}" + (f" ({c['detail']})" if c.get("detail") else "")
            for c in components
            if c.get("status") != "ok"
        )
    except (ValueError, KeyError, TypeError):
        return response.text[:500]
