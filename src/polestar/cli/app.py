"""The ``polestar`` command: one Typer app, one module per command or command group.

Groups are added here in one place: ``polestar config`` (config.py),
``polestar schema`` (schema.py) and the event bus's operator commands,
``polestar bus ...`` (bus.py).
"""

from __future__ import annotations

import typer

from polestar.cli import audit, bus, config, mapping, schema, token
from polestar.cli import routes as routes_cli
from polestar.cli import search as search_cli
from polestar.cli.demo import demo
from polestar.cli.up import up
from polestar.cli.version import version

root = typer.Typer(
    name="polestar",
    help="Polestar: an integration hub for policing and justice.",
    no_args_is_help=True,
    # A traceback is for developers; expected errors are reported by the commands themselves.
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

root.command("up")(up)
root.command("demo")(demo)
root.command("version")(version)
root.add_typer(config.app, name="config")
root.add_typer(schema.app, name="schema")
root.add_typer(bus.app, name="bus")
root.add_typer(mapping.app, name="mapping")
root.add_typer(routes_cli.app, name="routes")
root.add_typer(audit.app, name="audit")
root.add_typer(search_cli.app, name="search")
root.add_typer(token.app, name="token")


def main() -> None:
    """Entry point of the ``polestar`` console script."""
    root()
