"""``polestar up``: start the hub (the API, and the components as they land) and run until stopped."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from pydantic import ValidationError

from polestar.__about__ import __version__
from polestar.cli._output import fail, fail_config, out
from polestar.cli._server import HubFailedToStart, serve
from polestar.config import HubConfig, load_config
from polestar.errors import ConfigError
from polestar.sockets import bind, bound_port

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="polestar.yaml to read; POLESTAR_* variables override it.", dir_okay=False
    ),
]
DataDirOption = Annotated[Path | None, typer.Option(help="Folder for the hub's files; overrides data_dir.")]
HostOption = Annotated[str | None, typer.Option(help="Interface to listen on; overrides api.host.")]
PortOption = Annotated[
    int | None, typer.Option(min=0, max=65535, help="TCP port (0 picks a free one); overrides api.port.")
]


def up(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    host: HostOption = None,
    port: PortOption = None,
) -> None:
    """Start the hub and run until Ctrl-C (embedded profile unless the config says otherwise)."""
    try:
        hub = load_config(config)
    except ConfigError as exc:
        fail_config(exc)
    changes: dict[str, Any] = {}
    if data_dir is not None:
        changes["data_dir"] = data_dir
    api = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    if api:
        changes["api"] = api
    if changes:
        try:
            hub = hub.with_changes(changes)
        except ValidationError as exc:
            fail(f"command-line options: {exc.errors()[0]['msg']}", code=2)
    run_hub(hub, banner="Polestar")


def run_hub(hub: HubConfig, *, banner: str) -> None:
    """Prepare the data folder, listen, print where, and serve until Ctrl-C."""
    prepare_data_dir(hub)
    sock = listen(hub)

    async def announce(_: uvicorn.Server) -> None:
        print_listening(hub, bound_port(sock), banner=banner)
        out().print("Press Ctrl-C to stop.")

    try:
        asyncio.run(serve(hub, sock, announce))
    except KeyboardInterrupt:
        # uvicorn has already shut down gracefully and re-raised the signal; not an error.
        out().print("stopped")
    except HubFailedToStart as exc:
        fail(str(exc))
    finally:
        sock.close()


def prepare_data_dir(hub: HubConfig) -> None:
    """Create the data folder, or exit with a message saying why it cannot be."""
    try:
        hub.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create the data folder {hub.data_dir}: {exc.strerror or exc}")


def listen(hub: HubConfig) -> socket.socket:
    """Bind the API's address, or exit with a message naming it."""
    try:
        return bind(hub.api.host, hub.api.port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        fail(f"cannot listen on {hub.api.host}:{hub.api.port}: {reason}; choose another with --port")


def print_listening(hub: HubConfig, port: int, *, banner: str) -> None:
    """Tell the operator where the hub listens and where its documents are."""
    base = hub.api.base_url(port)
    console = out()
    console.print(f"[bold]{banner}[/] {__version__} ({hub.profile.value} profile), data in {hub.data_dir}")
    console.print(f"  API:     {base}")
    console.print(f"  health:  {base}/health")
    console.print(f"  docs:    {base}/docs")
