"""``polestar audit ...``: verify the audit log, prove entries, query and export it, for auditors.

Each command opens the configured store (embedded: the SQLite file under the
data folder; cluster: PostgreSQL) and the audit keys in ``<data_dir>/audit``,
does one thing through ``AuditReader`` and closes. Every command is an access
to the log and is itself recorded, with ``--actor`` (default ``user:<login>``)
as the accessing auditor. Until the security component supplies identities,
whoever can read the data folder acts with the auditor role.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Column, Table
from sqlalchemy.exc import SQLAlchemyError

from polestar.audit import (
    AUDITOR_ROLE,
    ERASED,
    AuditAccess,
    AuditError,
    AuditKeys,
    AuditLog,
    AuditQuery,
    AuditReader,
    AuditRecord,
    ExportFormat,
    Problem,
    SubjectRef,
    open_store,
)
from polestar.cli._hub import default_actor, hub_config
from polestar.cli._output import err, fail, out
from polestar.cli.up import ConfigOption, DataDirOption
from polestar.config import HubConfig

T = TypeVar("T")

app = typer.Typer(help="The audit log: verify, prove, query and export (auditors).", no_args_is_help=True)

ActorOption = Annotated[
    str | None,
    typer.Option(help="The auditor acting, recorded with this access. Default: user:<your login name>."),
]
PurposeOption = Annotated[str | None, typer.Option(help="Why you are reading the log (recorded).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


@app.command("verify")
def verify(
    *,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    purpose: PurposeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check every entry and signed head; name the first bad entry and exit 1 if there is one."""
    access = _access(actor, purpose)
    report, not_recorded = _run(hub_config(config, data_dir), lambda reader: reader.verify(access))
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    elif report.failure is None:
        head = report.latest_head
        size = head.tree_size if head else 0
        out().print(
            f"[green]✓[/] audit log verified: {report.entries_checked} entries, "
            f"{report.heads_checked} signed heads, in {report.seconds:.2f}s"
            + (f"; root {head.root_hash} at size {size}" if head else "")
        )
    else:
        failure = report.failure
        if failure.problem is Problem.HEAD_SIGNATURE_INVALID:
            where = f"the signed tree head of size {failure.tree_size}"
        else:
            where = f"entry {failure.seq}" if failure.seq is not None else "the log"
        err().print(f"[bold red]✗ audit log verification failed at {escape(where)}:[/]")
        err().print(f"  {escape(report.failure.message)}")
    if not_recorded:
        err().print(f"[yellow]warning:[/] this access could not be recorded: {escape(not_recorded)}")
    if report.failure is not None:
        raise typer.Exit(1)


@app.command("proof")
def proof(
    *,
    entry: Annotated[int, typer.Argument(metavar="ENTRY", min=0, help="The entry's sequence number.")],
    tree_size: Annotated[
        int | None, typer.Option(min=1, help="Prove against this tree size (default: the latest head).")
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    purpose: PurposeOption = None,
    as_json: JsonOption = False,
) -> None:
    """The inclusion proof (audit path) of one entry, checked, with the entry itself."""
    access = _access(actor, purpose)
    found, record = _run(
        hub_config(config, data_dir), lambda reader: reader.inclusion_proof(access, entry, tree_size)
    )
    if as_json:
        typer.echo(
            json.dumps({"proof": found.model_dump(mode="json"), "entry": record.model_dump(mode="json")})
        )
        return
    console = out()
    console.print(f"entry {found.seq} in the tree of size {found.tree_size}")
    console.print(f"  leaf hash  {found.leaf_hash}")
    console.print(f"  root       {found.root_hash}")
    for i, h in enumerate(found.path):
        console.print(f"  path[{i}]    {h}")
    console.print(
        "[green]✓ the proof checks out[/]" if found.verify() else "[red]✗ the proof does NOT check out[/]"
    )
    console.print(_records_table([record]))


@app.command("query")
def query(
    *,
    subject: Annotated[
        str | None,
        typer.Option(help="TYPE:VALUE of a person, e.g. PNC:2001/0012345X: who has looked at them."),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Entries by this actor (person, system or device).")
    ] = None,
    system: Annotated[str | None, typer.Option(help="Entries recorded by this system or component.")] = None,
    for_purpose: Annotated[
        str | None, typer.Option("--for-purpose", help="Entries with this purpose.")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="At or after (UTC unless an offset is given).")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Before (UTC unless an offset is given).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="The most entries shown.")] = 1000,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    purpose: PurposeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Entries by subject, actor, system, purpose and time (all criteria must match)."""
    criteria = _query(
        subject=subject, by=by, system=system, purpose=for_purpose, since=since, until=until, limit=limit
    )
    access = _access(actor, purpose)
    records = _run(hub_config(config, data_dir), lambda reader: reader.query(access, criteria))
    if as_json:
        for r in records:
            typer.echo(r.model_dump_json())
        return
    if not records:
        out().print("no entries match")
        return
    out().print(_records_table(records))


@app.command("export")
def export(
    *,
    path: Annotated[Path, typer.Argument(metavar="OUT", help="File to write.", dir_okay=False)],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="jsonl, or csv (+ OUT.head.json).")] = (
        ExportFormat.JSONL
    ),
    subject: Annotated[str | None, typer.Option(help="TYPE:VALUE of a person.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Entries by this actor.")] = None,
    system: Annotated[str | None, typer.Option(help="Entries recorded by this system.")] = None,
    for_purpose: Annotated[
        str | None, typer.Option("--for-purpose", help="Entries with this purpose.")
    ] = None,
    since: Annotated[datetime | None, typer.Option(help="At or after.")] = None,
    until: Annotated[datetime | None, typer.Option(help="Before.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="The most entries exported.")] = 100_000,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    purpose: PurposeOption = None,
) -> None:
    """Export entries for the regulator, with a fresh signed head and an inclusion proof per entry."""
    criteria = _query(
        subject=subject, by=by, system=system, purpose=for_purpose, since=since, until=until, limit=limit
    )
    access = _access(actor, purpose)
    summary = _run(hub_config(config, data_dir), lambda reader: reader.export(access, criteria, path, fmt))
    out().print(
        f"exported {summary.entries} entries to {escape(str(summary.path))} under the signed head of size "
        f"{summary.head.tree_size} (root {summary.head.root_hash})"
    )


@app.command("head")
def head(
    *,
    public_key: Annotated[
        bool, typer.Option("--public-key", help="Print the PEM public key instead.")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    purpose: PurposeOption = None,
) -> None:
    """The latest signed tree head, as JSON (or the log's public key, to give to witnesses)."""
    hub = hub_config(config, data_dir)
    if public_key:
        typer.echo(_keys(hub).public_key_pem().decode(), nl=False)
        return
    access = _access(actor, purpose)
    found = _run(hub, lambda reader: reader.head(access))
    if found is None:
        out().print("the audit log is empty: no signed head yet")
        return
    typer.echo(found.model_dump_json(indent=2))


# --- helpers ---------------------------------------------------------------------------------


def _access(actor: str | None, purpose: str | None) -> AuditAccess:
    return AuditAccess(actor=actor or default_actor(), roles=frozenset({AUDITOR_ROLE}), purpose=purpose)


def _query(
    *,
    subject: str | None,
    by: str | None,
    system: str | None,
    purpose: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> AuditQuery:
    ref = None
    if subject is not None:
        kind, sep, value = subject.partition(":")
        if not sep or not value:
            fail("--subject must be TYPE:VALUE, e.g. PNC:2001/0012345X", code=2)
        try:
            ref = SubjectRef(type=kind, value=value)
        except ValidationError as exc:
            fail(f"--subject: {exc.errors()[0]['msg']}", code=2)
    try:
        return AuditQuery(
            subject=ref,
            actor=by,
            system=system,
            purpose=purpose,
            since=_utc(since),
            until=_utc(until),
            limit=limit,
        )
    except ValidationError as exc:
        fail(f"query: {exc.errors()[0]['msg']}", code=2)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None or value.tzinfo is not None else value.replace(tzinfo=UTC)


def _keys(hub: HubConfig) -> AuditKeys:
    try:
        return AuditKeys.load(hub.data_dir)
    except AuditError as exc:
        fail(str(exc))


def _run(hub: HubConfig, operation: Callable[[AuditReader], Awaitable[T]]) -> T:
    """Open the log, run ``operation`` through a reader, close it; report expected failures and exit."""
    url = hub.store_url
    if url.startswith("sqlite"):
        file = Path(url.partition(":///")[2])
        if not file.is_file():
            fail(
                f"no audit log at {file}: check --data-dir or --config "
                "(the hub creates it when it first starts)"
            )
    keys = _keys(hub)
    try:
        return asyncio.run(_with_reader(url, keys, operation))
    except AuditError as exc:
        fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot read the audit log: {exc}")


async def _with_reader(url: str, keys: AuditKeys, operation: Callable[[AuditReader], Awaitable[T]]) -> T:
    log = AuditLog(open_store(url), keys, checkpoint_interval=None)
    await log.start()
    try:
        return await operation(AuditReader(log))
    finally:
        await log.close()


def _records_table(records: list[AuditRecord]) -> Table:
    table = Table(
        "entry",
        Column("at (UTC)", no_wrap=True),
        "operation",
        "actor",
        "system",
        "purpose",
        "subjects",
        "records",
        "outcome",
    )
    for r in records:
        table.add_row(
            str(r.seq),
            r.at.strftime("%Y-%m-%d %H:%M:%S"),
            r.operation.value,
            escape(" / ".join(a for a in (r.actor.person, r.actor.device, r.actor.system) if a)),
            escape(r.service),
            escape(r.purpose or ""),
            escape(", ".join(str(s) for s in r.subjects) or ("" if not r.personal_erased else ERASED)),
            escape(", ".join(r.record_ids)),
            r.outcome.value,
        )
    return table
