"""``polestar demo``: the force in a box, every flow run through it, then left running to explore.

It starts every simulator and the hub (embedded profile) in a fresh folder
(``polestar.demo.harness``), checks ``/health`` over real HTTP, runs each flow
of ``polestar.demo.flows`` with a live display of what is moving where, prints
a summary (per flow: messages, failures, dead letters, p50/p99 latency) and
leaves the hub and simulators running with their URLs printed until Ctrl-C.
``--once`` exits after the summary: 0 if every flow passed, 1 if not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import httpx
import typer
from rich.console import Console
from rich.live import Live
from rich.markup import escape

from polestar.cli._output import err, fail, fail_config, out
from polestar.config import Profile
from polestar.demo.board import FlowBoard, summary_table
from polestar.demo.contract import Flow, FlowOutcome, Force
from polestar.demo.flows import all_flows
from polestar.demo.harness import ForceFailedToStart, running_force
from polestar.demo.runner import run_flows
from polestar.errors import ConfigError

DEMO_DIR = Path(".polestar/demo")
DEMO_MARKER = ".polestar-demo"
"""A file marking a folder as the demo's own, so that only such a folder is ever wiped."""

LOG_FILE = "polestar.log"
"""The hub's log, in the demo folder."""
TOKEN_FILE = "token"
"""The demo's bearer token for the hub's API, in the demo folder."""
HEALTH_TIMEOUT_SECONDS = 10.0
LOG_WIDTH = 120
"""Columns the summary is drawn in when the output is not a terminal (CI logs, pipes)."""
DEFAULT_COUNT = 10
"""Messages per flow: enough for latency percentiles, few enough to finish well within two minutes."""

_T = TypeVar("_T")


def demo(  # noqa: PLR0917 - Typer passes each option by name; the order is --help's
    once: Annotated[
        bool, typer.Option("--once", help="Exit after the summary; non-zero if any flow failed.")
    ] = False,
    count: Annotated[int, typer.Option(min=1, max=10_000, help="Messages driven through each flow.")] = (
        DEFAULT_COUNT
    ),
    data_dir: Annotated[Path, typer.Option(help="Folder for the demo's files; wiped at start.")] = DEMO_DIR,
    host: Annotated[str, typer.Option(help="Interface the hub listens on.")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="The hub's TCP port (0 picks a free one).")
    ] = 8000,
    flow: Annotated[
        list[int] | None,
        typer.Option("--flow", help="Run only this flow (its number in DESIGN.md); repeat for more."),
    ] = None,
) -> None:
    """Start the hub and every simulator, run the flows, show the summary, run until Ctrl-C."""
    flows = chosen_flows(flow)
    fresh_data_dir(data_dir)
    _log_to_file(data_dir / LOG_FILE)
    try:
        code = asyncio.run(_demo(data_dir, flows, count=count, once=once, host=host, port=port))
    except ForceFailedToStart as exc:
        fail(str(exc))
    except ConfigError as exc:
        fail_config(exc)
    except KeyboardInterrupt:
        code = 130
    if code:
        raise typer.Exit(code)


def chosen_flows(numbers: list[int] | None) -> list[Flow]:
    """Every registered flow, or those numbered; an unknown number exits 2 naming the known ones."""
    flows = all_flows()
    if not numbers:
        return flows
    known = {flow.number for flow in flows}
    unknown = sorted(set(numbers) - known)
    if unknown:
        listed = ", ".join(str(n) for n in sorted(known)) or "none"
        fail(f"--flow: no flow is numbered {', '.join(map(str, unknown))}; the flows are {listed}", code=2)
    return [flow for flow in flows if flow.number in numbers]


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


async def _demo(data_dir: Path, flows: list[Flow], *, count: int, once: bool, host: str, port: int) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop.set)
    console = out()
    if not console.is_terminal:
        console.width = max(console.width, LOG_WIDTH)  # a log is not a terminal: do not wrap the tables
    console.print("[bold]Polestar demo[/]: starting the hub and every simulator…")
    async with running_force(Profile.EMBEDDED, data_dir, hub_host=host, hub_port=port) as force:
        _print_force(console, force)
        healthy = await _health(console, force)
        outcomes = await _until(stop, _run(console, force, flows, count))
        if outcomes is None:
            console.print("stopped")
            return 130
        console.print(summary_table(outcomes))
        _print_problems(console, outcomes)
        passed = healthy and all(outcome.ok for outcome in outcomes)
        if not outcomes:
            console.print("No flows are registered yet (polestar.demo.flows); the hub itself is up.")
        console.print("demo check passed" if passed else "[bold red]demo check FAILED[/]")
        if once:
            return 0 if passed else 1
        _print_force(console, force)
        _print_token(console, force)
        console.print("The hub and simulators keep running. Press Ctrl-C to stop.")
        await stop.wait()
    console.print("stopped")
    return 0 if passed else 1


async def _run(console: Console, force: Force, flows: list[Flow], count: int) -> list[FlowOutcome]:
    if not console.is_terminal:
        board = FlowBoard(flows, echo=lambda line: console.print(line, markup=False, highlight=False))
        return await run_flows(force, flows, count=count, board=board)
    board = FlowBoard(flows)
    with Live(get_renderable=board.render, console=console, refresh_per_second=8, transient=False):
        return await run_flows(force, flows, count=count, board=board)


async def _until(stop: asyncio.Event, work: Coroutine[Any, Any, _T]) -> _T | None:
    """``work``'s result, or None if ``stop`` is set first (the work is then cancelled)."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None


async def _health(console: Console, force: Force) -> bool:
    url = f"{force.hub_url}/health"
    try:
        async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_SECONDS) as client:
            response = await client.get(url, headers=force.hub_headers())
    except httpx.HTTPError as exc:
        err().print(f"GET {url} failed: {exc!r}", markup=False)
        return False
    ok = response.status_code == 200 and response.json().get("status") == "ok"
    (console if ok else err()).print(f"GET {url} -> {response.status_code} {response.text}", markup=False)
    return ok


def _print_force(console: Console, force: Force) -> None:
    console.print(f"  hub:       {force.hub_url}  (docs {force.hub_url}/docs)", markup=False)
    width = max(map(len, force.sims), default=0)
    for name, url in force.sims.items():
        console.print(f"  {name + ':':<{width + 1}}  {url}", markup=False)
    console.print(f"  files:     {force.data_dir}  (hub log {force.data_dir / LOG_FILE})", markup=False)


def _print_token(console: Console, force: Force) -> None:
    """Write the demo's bearer token to a file (not the screen) and say how to use it."""
    if force.token is None:
        return
    path = force.data_dir / TOKEN_FILE
    path.write_text(force.token + "\n", encoding="utf-8")
    path.chmod(0o600)
    console.print(f"  token:     {path}  (every role, full clearance; valid for a day)", markup=False)
    console.print(
        f'  try:       curl -H "Authorization: Bearer $(cat {path})" {force.hub_url}/routes', markup=False
    )


def _print_problems(console: Console, outcomes: list[FlowOutcome]) -> None:
    for outcome in outcomes:
        for note in outcome.notes:
            console.print(f"  flow {outcome.number} note: {escape(note)}", style="dim")
        for problem in outcome.problems:
            console.print(f"  [red]flow {outcome.number} problem:[/] {escape(problem)}")


def _log_to_file(path: Path) -> None:
    """The hub's warnings go to ``path``: on the terminal they would bury the display."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
