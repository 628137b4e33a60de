"""``polestar config ...``: check a ``polestar.yaml`` and print the schema it must follow."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from polestar.cli._output import fail_config, out
from polestar.config import HubConfig, load_config, redact_url
from polestar.config.loader import environment_paths
from polestar.errors import ConfigError

app = typer.Typer(help="Check hub configuration files.", no_args_is_help=True)


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The polestar.yaml to check.", show_default=False)],
) -> None:
    """Check FILE (with POLESTAR_* overrides): exit 0 with a summary, or 1 listing every problem."""
    try:
        hub = load_config(file)
    except ConfigError as exc:
        fail_config(exc)
    console = out()
    console.print(f"[bold green]✓[/] {escape(str(file))} is valid")
    console.print(summary(hub))
    overrides = sorted(
        name for path, name in environment_paths(os.environ).items() if path[0] in HubConfig.model_fields
    )
    if overrides:
        console.print("environment overrides: " + ", ".join(overrides), markup=False)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of polestar.yaml (for editors and CI linters)."""
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **HubConfig.model_json_schema()}
    out().print_json(json.dumps(document))


def summary(hub: HubConfig) -> Table:
    """The settings an operator checks first, as a two-column table."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    rows = [
        ("profile", hub.profile.value),
        ("organisation", f"{hub.organisation.code} {hub.organisation.name}"),
        ("data folder", str(hub.data_dir)),
        ("API", f"{hub.api.host}:{hub.api.port} ({hub.api.base_url()})"),
        ("bus", _bus(hub)),
        ("store", redact_url(hub.store_url)),
        ("log", f"{hub.log.level.value}, {hub.log.format.value}"),
        ("display time zone", hub.display_timezone),
    ]
    for name, value in rows:
        table.add_row(name, escape(value))
    return table


def _bus(hub: HubConfig) -> str:
    if hub.bus.kind == "sqlite":
        return f"sqlite {hub.resolve(hub.bus.path)} (synchronous {hub.bus.synchronous.value})"
    return f"jetstream {', '.join(hub.bus.servers)} (replicas {hub.bus.replicas})"
