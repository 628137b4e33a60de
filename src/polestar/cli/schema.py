"""``polestar schema ...``: publish the canonical model as JSON Schema and a data dictionary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from polestar.cli._output import err, fail, out
from polestar.docs_gen import DICTIONARY_DIR, SCHEMAS_DIR, stale_docs, write_docs

app = typer.Typer(help="Publish the canonical model.", no_args_is_help=True)


@app.command("export")
def export(
    directory: Annotated[
        Path, typer.Argument(help="Folder to write schemas/ and data-dictionary/ into.", show_default=False)
    ],
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if DIRECTORY is out of date.")
    ] = False,
) -> None:
    """Write JSON Schema (DIRECTORY/schemas) and the data dictionary (DIRECTORY/data-dictionary)."""
    if check:
        problems = stale_docs(directory)
        if problems:
            console = err()
            console.print(f"[bold red]✗[/] {escape(str(directory))} is out of date; run `make docs`")
            for problem in problems:
                console.print(f"  {problem}", markup=False)
            raise typer.Exit(1)
        out().print(f"[bold green]✓[/] {escape(str(directory))} is up to date")
        return
    try:
        files = write_docs(directory)
    except OSError as exc:
        fail(f"cannot write to {directory}: {exc.strerror or exc}")
    schemas = sum(1 for name in files if name.startswith(f"{SCHEMAS_DIR}/"))
    pages = len(files) - schemas
    out().print(
        f"wrote {schemas} JSON Schemas to {directory / SCHEMAS_DIR} "
        f"and {pages} pages to {directory / DICTIONARY_DIR}",
        markup=False,
    )
