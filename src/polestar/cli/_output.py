"""Rich consoles and the one way commands report problems: a message and an exit code, no traceback."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from polestar.errors import ConfigError


def out() -> Console:
    """Console for results (stdout); made per call so test runners' captured streams are used."""
    return Console(soft_wrap=True, highlight=False)


def err() -> Console:
    """Console for problems (stderr)."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` (plain text, not markup) as an error and exit with ``code``."""
    err().print(f"[bold red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def fail_config(error: ConfigError) -> NoReturn:
    """Print every problem of a configuration, one per line with its location, and exit 1."""
    console = err()
    count = len(error.problems)
    console.print(f"[bold red]✗[/] {escape(error.source)}: {count} problem{'s' if count != 1 else ''}")
    for where, why in error.problems:
        console.print(f"  [bold]{escape(where)}[/]: {escape(why)}")
    raise typer.Exit(1)
