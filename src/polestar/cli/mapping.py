"""``polestar mapping ...``: check mapping files and run their fixtures.

``mapping test PATH...`` loads every mapping file given (a folder gives its
``*.yaml``, fixture files included), runs every fixture and prints one row per
fixture, then what went wrong in each that failed, with a diff. It exits 1 if
any fixture fails or a file has problems; ``--json`` prints the report for CI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from polestar.cli._output import err, fail, fail_config, out
from polestar.errors import ConfigError
from polestar.mapping import MappingSet, MappingTestReport, load_mappings, run_mapping_tests

app = typer.Typer(help="Check mappings and run their fixtures.", no_args_is_help=True)

Paths = Annotated[
    list[Path],
    typer.Argument(help="Mapping files, or folders of them (*.yaml).", show_default=False),
]


def _load(paths: list[Path]) -> MappingSet:
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    try:
        return load_mappings(paths)
    except ConfigError as exc:
        fail_config(exc)


@app.command("check")
def check(paths: Paths) -> None:
    """Load mapping files and report every problem with its file, line and column."""
    mappings = _load(paths)
    names = mappings.names()
    out().print(
        f"[bold green]✓[/] {len(names)} mapping(s), {len(mappings.code_lists)} code list(s) and "
        f"{len(mappings.fixtures)} fixture(s) are valid"
    )
    for name in names:
        out().print(f"  {escape(name)} ({mappings.direction(name)})")


@app.command("test")
def run_tests(
    paths: Paths,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON, for CI.")] = False,
) -> None:
    """Run the fixtures in mapping files and *.test.yaml files; exit 1 if any fails."""
    mappings = _load(paths)
    if not mappings.fixtures:
        fail(f"no fixtures found in {', '.join(str(p) for p in paths)}")
    report = run_mapping_tests(mappings)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        _print(report)
    if not report.passed:
        raise typer.Exit(1)


def _print(report: MappingTestReport) -> None:
    console = out()
    table = Table(title="Mapping fixtures", title_justify="left")
    table.add_column("result")
    table.add_column("fixture")
    table.add_column("mapping")
    table.add_column("where", overflow="fold")
    for result in report.results:
        mark = "[green]pass[/]" if result.passed else "[bold red]FAIL[/]"
        table.add_row(mark, escape(result.name), escape(result.mapping), escape(result.where))
    console.print(table)
    for result in report.failures:
        problems = err()
        problems.print(f"\n[bold red]✗[/] {escape(result.name)} [dim]({escape(result.where)})[/]")
        for problem in result.problems:
            problems.print(f"  {escape(problem)}")
        if result.diff:
            problems.print(Syntax(result.diff, "diff", theme="ansi_dark", background_color="default"))
    failed = len(report.failures)
    passed = len(report.results) - failed
    colour = "red" if failed else "green"
    console.print(f"[bold {colour}]{passed} passed, {failed} failed[/]")
