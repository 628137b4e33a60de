"""``polestar token``: issue bearer tokens from the embedded issuer, and hash client secrets.

``polestar token issue --subject user:pc1234 --role officer --clearance OFFICIAL-SENSITIVE``
prints a token the hub accepts, signed by the key in the data folder (created
on first use, mode 0600). ``polestar token hash-secret`` reads a client secret
from standard input and prints the scrypt hash to put in ``security.clients``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from polestar.cli._hub import hub_config
from polestar.cli._output import fail
from polestar.cli.up import ConfigOption, DataDirOption
from polestar.security import SecurityError, hash_secret, issue_token

app = typer.Typer(help="Issue bearer tokens and hash client secrets.", no_args_is_help=True)


@app.command("issue")
def issue(
    *,
    subject: Annotated[str, typer.Option(help="Who the token names: user:ID, device:ID or system:NAME.")],
    role: Annotated[
        list[str] | None, typer.Option("--role", help="A role (repeat for several), e.g. officer.")
    ] = None,
    clearance: Annotated[
        str, typer.Option(help="Highest marking with caveats, e.g. 'OFFICIAL-SENSITIVE [PERSONAL]'.")
    ] = "OFFICIAL",
    ttl: Annotated[int, typer.Option(help="Seconds the token lives.", min=1)] = 3600,
    device: Annotated[
        str | None,
        typer.Option(help="Bind the token to this device (an officer signed in on a tablet or car)."),
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print a signed bearer token for SUBJECT (keys in DATA_DIR/security, made on first use)."""
    hub = hub_config(config, data_dir)
    try:
        token = issue_token(
            hub, subject=subject, roles=role or [], clearance=clearance, ttl=ttl, device=device
        )
    except (SecurityError, ValueError) as exc:
        fail(f"cannot issue the token: {exc}", code=2)
    sys.stdout.write(token + "\n")


@app.command("hash-secret")
def hash_secret_command() -> None:
    """Read a client secret from standard input; print its hash for security.clients[].secret_hash."""
    secret = sys.stdin.readline().rstrip("\r\n")
    try:
        hashed = hash_secret(secret)
    except SecurityError as exc:
        fail(str(exc), code=2)
    sys.stdout.write(hashed + "\n")
