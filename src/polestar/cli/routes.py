"""``polestar routes ...``: see, reload, check and dry-run the hub's routes.

``list``, ``show`` and ``reload`` ask a running hub over its HTTP API
(``--hub``, default ``http://127.0.0.1:8000``). ``check`` and ``test`` work
offline on an integration config folder (``--dir``): ``check`` validates it
and lists every problem with its place; ``test`` runs one route's steps on a
sample event and prints what each step produced and what would be sent where,
sending nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Column, Table

from polestar.cli._output import err, fail, fail_config, out
from polestar.connectors.registry import default_registry
from polestar.errors import ConfigError
from polestar.model.envelope import Envelope
from polestar.routes.api import RouteList
from polestar.routes.counters import CounterView, RouteStatus
from polestar.routes.loader import IntegrationConfig, load_integration_config
from polestar.routes.preview import RoutePreview, preview_route
from polestar.routes.reload import ReloadResult

DEFAULT_HUB = "http://127.0.0.1:8000"
DEFAULT_DIR = Path("integration")

app = typer.Typer(help="See, reload, check and dry-run routes.", no_args_is_help=True)

HubOption = Annotated[
    str, typer.Option("--hub", envvar="POLESTAR_HUB_URL", help="The running hub's API base URL.")
]
DirOption = Annotated[
    Path,
    typer.Option(
        "--dir",
        "-d",
        envvar="POLESTAR_INTEGRATION_DIR",
        help="Integration config folder (connectors/, mappings/, routes/).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


@app.command("list")
def list_routes(*, hub: HubOption = DEFAULT_HUB, as_json: JsonOption = False) -> None:
    """Every route with its state and counters (in, out, filtered, failed, dead-lettered)."""
    view = RouteList.model_validate(_get(hub, "/routes"))
    if as_json:
        out().print_json(view.model_dump_json())
        return
    if not view.routes:
        out().print("no routes configured")
        return
    table = Table(
        Column("route", no_wrap=True), "state", "in", "out", "filtered", "failed", "dead", "last error"
    )
    for route in view.routes:
        c = route.counters
        table.add_row(
            escape(route.name),
            route.state.value,
            str(c.received),
            str(c.delivered),
            str(c.filtered),
            str(c.failed),
            str(c.dead_lettered),
            escape(_last_error(c)),
        )
    out().print(table)


@app.command("show")
def show_route(
    name: Annotated[str, typer.Argument(help="The route's name.")],
    *,
    hub: HubOption = DEFAULT_HUB,
    as_json: JsonOption = False,
) -> None:
    """One route: what it reads, its steps, its outputs and their breakers, its counters."""
    route = RouteStatus.model_validate(_get(hub, f"/routes/{name}"))
    if as_json:
        out().print_json(route.model_dump_json())
        return
    console = out()
    console.print(f"[bold]{escape(route.name)}[/] ({route.state.value}) {escape(route.description)}")
    if route.file:
        console.print(f"  defined in {escape(route.file)}")
    console.print(f"  from {escape(', '.join(route.subjects))} (group {escape(route.group)})")
    for number, step in enumerate(route.steps, start=1):
        console.print(f"  {number}. {escape(step)}")
    for output in route.outputs:
        where = f"connector {output.connector}" if output.connector else f"subject {output.subject}"
        circuit = f", circuit {output.circuit}" if output.circuit else ""
        console.print(f"  → {escape(output.name)}: {escape(where)}{circuit}")
    c = route.counters
    console.print(
        f"  in {c.received}, out {c.delivered}, filtered {c.filtered}, aggregated {c.aggregated}, "
        f"failed {c.failed}, dead-lettered {c.dead_lettered}"
    )
    if c.last_error:
        console.print(f"  last error {c.last_error.at.isoformat()}: {escape(c.last_error.text)}")


@app.command("reload")
def reload_routes(*, hub: HubOption = DEFAULT_HUB, as_json: JsonOption = False) -> None:
    """Ask the hub to reload its connectors, mappings and routes; an invalid change is refused."""
    response = _request(hub, "POST", "/routes/reload")
    if response.status_code == 422:
        body = response.json()
        problems = [(p["where"], p["reason"]) for p in body.get("problems", [])]
        fail_config(ConfigError("the hub refused the reload; the running version carries on", problems))
    _check(response)
    result = ReloadResult.model_validate(response.json())
    if as_json:
        out().print_json(result.model_dump_json())
        return
    console = out()
    console.print("[green]✓[/] reloaded")
    for label, names in (
        ("started", result.started),
        ("restarted", result.restarted),
        ("stopped", result.stopped),
    ):
        if names:
            console.print(f"  {label}: {escape(', '.join(names))}")
    if not (result.started or result.restarted or result.stopped):
        console.print("  nothing changed")


@app.command("check")
def check(
    directory: Annotated[Path, typer.Argument(help="Integration config folder.")] = DEFAULT_DIR,
) -> None:
    """Validate a config folder offline; list every problem as FILE:LINE:COL path: reason."""
    config = _load(directory)
    out().print(
        f"[green]✓[/] {escape(str(directory))}: {len(config.connectors)} connector(s), "
        f"{len(config.mappings.names())} mapping(s), {len(config.routes)} route(s)"
    )


@app.command("test")
def dry_run(
    name: Annotated[str, typer.Argument(help="The route's name.")],
    *,
    input_file: Annotated[
        Path, typer.Option("--input", "-i", help="A sample event: a CloudEvents JSON file.", exists=True)
    ],
    directory: DirOption = DEFAULT_DIR,
    as_json: JsonOption = False,
) -> None:
    """Run a route's steps on a sample event, sending nothing; show each step and each output."""
    config = _load(directory)
    if name not in config.routes:
        fail(f"no route is named {name!r}; known: {', '.join(sorted(config.routes)) or 'none'}")
    try:
        envelope = Envelope.model_validate_json(input_file.read_bytes())
    except ValidationError as exc:
        fail(f"{input_file} is not a valid event: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}")
    preview = asyncio.run(preview_route(config, name, envelope))
    if as_json:
        out().print_json(preview.model_dump_json())
        return
    _print_preview(preview)
    if preview.failure:
        raise typer.Exit(1)


def _print_preview(preview: RoutePreview) -> None:
    console = out()
    console.print(f"[bold]route {escape(preview.route)}[/]")
    for step in preview.steps:
        verdict = "filtered" if not step.produced else f"{len(step.produced)} out"
        console.print(f"{step.index + 1}. {step.step}: {step.given} in, {verdict}")
        if step.note:
            console.print(f"   (not run: {escape(step.note)})")
        for made in step.produced:
            console.print(f"   {escape(_brief(made))}")
    if preview.failure:
        err().print(f"[bold red]✗[/] the message would not get through: {escape(preview.failure)}")
        return
    if not preview.outputs:
        console.print("nothing would be sent (filtered)")
    for output in preview.outputs:
        console.print(f"→ {escape(output.output)} ({escape(output.to)}) would get:")
        console.print(escape(json.dumps(output.would_send, indent=2, ensure_ascii=False)))


def _brief(envelope: dict[str, Any]) -> str:
    data = json.dumps(envelope.get("data"), ensure_ascii=False)
    if len(data) > 200:
        data = data[:197] + "..."
    return f"{envelope.get('type')} {envelope.get('id')} data={data}"


def _last_error(counters: CounterView) -> str:
    if counters.last_error is None:
        return ""
    text = counters.last_error.text
    return f"{counters.last_error.at:%Y-%m-%d %H:%M:%S} {text[:80]}"


def _load(directory: Path) -> IntegrationConfig:
    try:
        return load_integration_config(directory, default_registry())
    except ConfigError as exc:
        fail_config(exc)


def _request(hub: str, method: str, path: str) -> httpx.Response:
    # The hub wants a bearer token (polestar token issue ... --role operator): POLESTAR_TOKEN holds it.
    token = os.environ.get("POLESTAR_TOKEN", "").strip()
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        return httpx.request(method, hub.rstrip("/") + path, timeout=30, headers=headers)
    except httpx.HTTPError as exc:
        fail(f"cannot reach the hub at {hub}: {exc}")


def _check(response: httpx.Response) -> None:
    if response.status_code == 404:
        detail = _detail(response)
        fail(detail or f"not found: {response.request.url.path}")
    if response.status_code >= 400:
        fail(f"the hub answered {response.status_code}: {_detail(response) or response.text[:300]}")


def _detail(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) and isinstance(body.get("detail"), str) else None


def _get(hub: str, path: str) -> Any:
    response = _request(hub, "GET", path)
    _check(response)
    return response.json()
