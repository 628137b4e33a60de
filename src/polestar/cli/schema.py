"""``polestar schema ...``: publish the canonical model (JSON Schema, data dictionary) and the API.

``schema export`` also writes the hub's OpenAPI document, ``openapi.json``,
generated from the application itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from polestar.api import create_app
from polestar.cli._output import err, fail, out
from polestar.config import HubConfig
from polestar.docs_gen import DICTIONARY_DIR, SCHEMAS_DIR, stale_docs, write_docs

OPENAPI_FILE = "openapi.json"

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
    """Write JSON Schema (DIRECTORY/schemas), the data dictionary and the API's openapi.json."""
    if check:
        problems = stale_docs(directory) + _stale_openapi(directory)
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
        _write_openapi(directory)
    except OSError as exc:
        fail(f"cannot write to {directory}: {exc.strerror or exc}")
    schemas = sum(1 for name in files if name.startswith(f"{SCHEMAS_DIR}/"))
    pages = len(files) - schemas
    out().print(
        f"wrote {schemas} JSON Schemas to {directory / SCHEMAS_DIR} "
        f"and {pages} pages to {directory / DICTIONARY_DIR}",
        markup=False,
    )
    out().print(f"wrote the OpenAPI document to {directory / OPENAPI_FILE}", markup=False)


def openapi_document() -> str:
    """The hub API's OpenAPI document as committed: indented JSON ending in a newline."""
    # With an integration folder named (never read here) so the document shows every
    # endpoint a hub can serve: routes, connectors and the HTTP and SOAP ingest paths.
    config = HubConfig(integration_dir=Path("integration"))
    return json.dumps(create_app(config).openapi(), indent=2, ensure_ascii=False) + "\n"


def _write_openapi(directory: Path) -> None:
    target = directory / OPENAPI_FILE
    text = openapi_document()
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def _stale_openapi(directory: Path) -> list[str]:
    target = directory / OPENAPI_FILE
    if not target.is_file():
        return [f"missing: {OPENAPI_FILE}"]
    if target.read_text(encoding="utf-8") != openapi_document():
        return [f"changed: {OPENAPI_FILE}"]
    return []
