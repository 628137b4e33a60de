"""``polestar demo``: the hub in the embedded profile in a fresh folder, for a first look.

Until the simulators and flows land, the demo is the hub itself: its API,
health and interactive docs. ``--once`` starts it, checks ``/health`` over
real HTTP and exits, which is how tests and scripts know the demo works.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path
from typing import Annotated

import httpx
import typer
import uvicorn

from polestar.cli._output import err, fail, out
from polestar.cli._server import HubFailedToStart, bound_port, serve
from polestar.cli.up import listen, print_listening, run_hub
from polestar.config import ApiConfig, HubConfig, LogConfig, LogLevel, Profile

DEMO_DIR = Path(".polestar/demo")
DEMO_MARKER = ".polestar-demo"
"""A file marking a folder as the demo's own, so that only such a folder is ever wiped."""

HEALTH_TIMEOUT_SECONDS = 10.0


def demo(
    once: Annotated[
        bool, typer.Option("--once", help="Start, check /health over HTTP, print it and exit.")
    ] = False,
    data_dir: Annotated[Path, typer.Option(help="Folder for the demo's files; wiped at start.")] = DEMO_DIR,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0 picks a free one).")] = 8000,
) -> None:
    """Start the hub (embedded profile) in a fresh data folder and run until Ctrl-C."""
    hub = HubConfig(
        profile=Profile.EMBEDDED,
        data_dir=data_dir,
        api=ApiConfig(host=host, port=port),
        log=LogConfig(level=LogLevel.WARNING if once else LogLevel.INFO),
    )
    fresh_data_dir(data_dir)
    if not once:
        run_hub(hub, banner="Polestar demo")
        return
    sock = listen(hub)
    try:
        healthy = asyncio.run(_check_once(hub, sock))
    except HubFailedToStart as exc:
        fail(str(exc))
    finally:
        sock.close()
    if not healthy:
        raise typer.Exit(1)


def fresh_data_dir(path: Path) -> None:
    """Empty ``path`` if the demo made it, create it with the marker; refuse any other folder."""
    if path.exists():
        if not (path / DEMO_MARKER).is_file() and any(path.iterdir()):
            fail(
                f"{path} exists and was not made by `polestar demo`; refusing to wipe it (choose --data-dir)"
            )
        shutil.rmtree(path)
    try:
        path.mkdir(parents=True)
        (path / DEMO_MARKER).write_text("made by `polestar demo`; wiped at each start\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot create the demo folder {path}: {exc.strerror or exc}")


async def _check_once(hub: HubConfig, sock: socket.socket) -> bool:
    port = bound_port(sock)
    outcome: list[bool] = []

    async def check(server: uvicorn.Server) -> None:
        print_listening(hub, port, banner="Polestar demo")
        url = f"{hub.api.base_url(port)}/health"
        try:
            async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_SECONDS) as client:
                response = await client.get(url)
        except httpx.HTTPError as exc:
            err().print(f"GET {url} failed: {exc!r}", markup=False)
            outcome.append(False)
        else:
            ok = response.status_code == 200 and response.json().get("status") == "ok"
            console = out() if ok else err()
            console.print(f"GET {url} -> {response.status_code} {response.text}", markup=False)
            console.print("demo check passed" if ok else "demo check FAILED", markup=False)
            outcome.append(ok)
        server.should_exit = True

    await serve(hub, sock, check)
    return bool(outcome) and outcome[0]
