"""Every simulator in one process: one world, consecutive ports, one asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from polestar.sims import cad, calls, crime, custody, footwear, intelligence, pnc, prosecutor, warehouse
from polestar.sims.serving import serve
from polestar.sims.synthetic import World

SIM_ORDER = (
    "pnc",
    "cad",
    "call-handling",
    "crime-recording",
    "custody",
    "warehouse",
    "footwear",
    "prosecutor",
    "intelligence",
)
"""The simulators in port order: ``pnc`` on ``base_port``, ``cad`` on the next, and so on."""


def build_apps(world: World, data_dir: Path, *, hub_url: str | None = None) -> dict[str, Any]:
    """Every simulator's app over ``world``; files under ``data_dir``; CAD events and calls to ``hub_url``."""
    return {
        "pnc": pnc.create_app(world),
        "cad": cad.create_app(world, webhook_url=f"{hub_url}/ingest/cad" if hub_url else None),
        "call-handling": calls.create_app(
            world, webhook_url=f"{hub_url}/ingest/call-handling" if hub_url else None
        ),
        "crime-recording": crime.create_app(),
        "custody": custody.create_app(world, folder=data_dir / "custody", initial=20),
        "warehouse": warehouse.create_app(data_dir / "warehouse"),
        "footwear": footwear.create_app(),
        "prosecutor": prosecutor.create_app(decision_delay=2.0, review_on_receipt=True),
        "intelligence": intelligence.create_app(),
    }


@contextlib.asynccontextmanager
async def serve_all(
    seed: int = 2026,
    base_port: int = 8100,
    *,
    host: str = "127.0.0.1",
    data_dir: Path = Path("var/sims"),
    hub_url: str | None = None,
    people: int = 3000,
) -> AsyncIterator[dict[str, str]]:
    """Serve every simulator while the block runs; yield their URLs by name (``base_port`` 0: any free)."""
    world = World.build(seed, people=people)
    apps = build_apps(world, data_dir, hub_url=hub_url)
    async with contextlib.AsyncExitStack() as stack:
        urls = {}
        for offset, (name, app) in enumerate(apps.items()):
            port = base_port + offset if base_port else 0
            urls[name] = await stack.enter_async_context(serve(app, host=host, port=port))
        yield urls


async def _run(seed: int, base_port: int, host: str, data_dir: Path, hub_url: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    async with serve_all(seed, base_port, host=host, data_dir=data_dir, hub_url=hub_url) as urls:
        width = max(map(len, urls))
        for name, url in urls.items():
            sys.stdout.write(f"{name:<{width}}  {url}\n")
        sys.stdout.write(f"seed {seed}; files under {data_dir}; Ctrl-C stops\n")
        sys.stdout.flush()
        await stop.wait()


def run_all(
    seed: int = 2026,
    base_port: int = 8100,
    *,
    host: str = "127.0.0.1",
    data_dir: Path = Path("var/sims"),
    hub_url: str | None = None,
) -> None:
    """Start every simulator on consecutive ports from ``base_port``, print their URLs, run until Ctrl-C."""
    asyncio.run(_run(seed, base_port, host, data_dir, hub_url))
