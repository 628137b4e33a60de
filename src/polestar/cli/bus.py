"""``polestar bus ...``: the bus's statistics and dead letters, for operators.

Each command opens the configured engine itself (embedded: the SQLite file the
running hub also uses; cluster: the NATS servers), does one thing through
``BusAdmin`` and closes it. Every action, reads included, is recorded as an
``OperatorAction`` with ``--actor`` (default ``user:<login>``), written as one
line on stderr until the audit component takes them over.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import structlog
import typer
from pydantic import BaseModel
from rich.markup import escape
from rich.table import Column, Table
from sqlalchemy.exc import SQLAlchemyError

from polestar.api.bus_models import (
    BusStatsView,
    DeadLetterDetail,
    DeadLetterList,
    DeadLetterSummary,
    DiscardResult,
    ReplayResult,
)
from polestar.audit import AuditActionSink, AuditError, AuditKeys, AuditLog, open_store
from polestar.bus.admin import (
    MAX_LIST_LIMIT,
    BusAdmin,
    LoggingActionSink,
    OperatorAction,
    OperatorActionSink,
    ReasonRequired,
)
from polestar.bus.contract import BusEngine, DeadLetter
from polestar.bus.factory import open_engine
from polestar.cli._hub import default_actor, hub_config
from polestar.cli._output import err, fail, out
from polestar.cli.up import ConfigOption, DataDirOption
from polestar.config import HubConfig, LogConfig, LogFormat
from polestar.errors import BusError, DeadLetterNotFound

T = TypeVar("T")

app = typer.Typer(help="Operate the event bus: statistics and dead letters.", no_args_is_help=True)
dead_letters_app = typer.Typer(help="See, replay and discard dead letters.", no_args_is_help=True)
app.add_typer(dead_letters_app, name="dead-letters")

ActorOption = Annotated[
    str | None,
    typer.Option(help="Who is acting, recorded with the action. Default: user:<your login name>."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]
IdArgument = Annotated[
    str, typer.Argument(metavar="ID", help="The dead letter's id (from `dead-letters list`).")
]
ReasonOption = Annotated[
    str,
    typer.Option(
        "--reason",
        "-r",
        help="Why: recorded with your name, for other operators and auditors.",
        show_default=False,
    ),
]

ActionSinkFactory = Callable[[LogConfig], OperatorActionSink]


def stderr_action_sink(log: LogConfig) -> OperatorActionSink:
    """Operator actions as one line each on stderr, JSON or readable as ``log.format`` says."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log.format is LogFormat.JSON
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    logger = structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            renderer,  # no timestamp of its own: the record's ``at`` is the time
        ],
    )
    return LoggingActionSink(logger)


action_sink: ActionSinkFactory = stderr_action_sink
"""Where the commands send operator actions; tests may replace it."""


@app.command("stats")
def stats(
    *,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Messages kept, dead letters, and each consumer group's backlog."""
    hub = hub_config(config, data_dir)
    who = actor or default_actor()
    view = BusStatsView.of(_run(hub, lambda admin: admin.stats(actor=who)))
    if as_json:
        _print_json(view)
        return
    console = out()
    console.print(
        f"[bold]{view.engine}[/] bus: {view.messages} messages kept "
        f"(sequences {view.first_sequence}-{view.last_sequence}, {view.bytes} bytes), "
        f"{view.dead_letters} dead letters"
    )
    if not view.groups:
        console.print("no consumer groups yet")
        return
    table = Table(
        Column("group", no_wrap=True), "pending", "in flight", "redelivering", "dead letters", "last sequence"
    )
    for g in view.groups:
        table.add_row(
            escape(g.group),
            str(g.pending),
            str(g.in_flight),
            str(g.redelivering),
            str(g.dead_letters),
            str(g.last_sequence),
        )
    console.print(table)


@dead_letters_app.command("list")
def list_dead_letters(
    *,
    group: Annotated[str | None, typer.Option(help="Only this consumer group.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIST_LIMIT, help="The most to show.")] = 100,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dead letters, oldest first, without their payloads."""
    hub = hub_config(config, data_dir)
    who = actor or default_actor()
    found = _run(hub, lambda admin: admin.dead_letters(actor=who, group=group, limit=limit))
    view = DeadLetterList(group=group, limit=limit, dead_letters=[DeadLetterSummary.of(d) for d in found])
    if as_json:
        _print_json(view)
        return
    if not view.dead_letters:
        out().print("no dead letters" + (f" in group {escape(group)}" if group else ""))
        return
    table = Table(
        Column("id", no_wrap=True),
        "group",
        "dead at (UTC)",
        "attempts",
        "event type",
        Column("reason", min_width=20, ratio=1),
    )
    for d in view.dead_letters:
        table.add_row(
            escape(d.id),
            escape(d.group),
            d.dead_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(d.attempt_count),
            escape(d.event_type),
            escape(_shorten(d.reason)),
        )
    out().print(table)
    if len(view.dead_letters) == limit:
        out().print(f"showing the first {limit}; use --limit for more")


@dead_letters_app.command("show")
def show(
    *,
    dead_letter_id: IdArgument,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """One dead letter: why it failed, each attempt, and the event itself."""
    hub = hub_config(config, data_dir)
    who = actor or default_actor()
    view = DeadLetterDetail.of(_run(hub, lambda admin: admin.dead_letter(dead_letter_id, actor=who)))
    if as_json:
        _print_json(view)
        return
    console = out()
    console.print(_summary_table(view))
    attempts = Table("attempt", "at (UTC)", "reason", title="failed deliveries")
    for a in view.attempts:
        attempts.add_row(str(a.attempt), a.at.strftime("%Y-%m-%d %H:%M:%S"), escape(a.reason))
    console.print(attempts)
    console.print("[bold]event[/]")
    console.print_json(view.envelope.model_dump_json(exclude_none=True))


@dead_letters_app.command("replay")
def replay(
    *,
    dead_letter_id: IdArgument,
    reason: ReasonOption,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send a dead letter back to its consumer group as a fresh delivery (after fixing the cause)."""
    hub = hub_config(config, data_dir)
    who = actor or default_actor()
    ack = _run(hub, lambda admin: admin.replay(dead_letter_id, actor=who, reason=reason))
    view = ReplayResult.of(dead_letter_id, ack)
    if as_json:
        _print_json(view)
        return
    out().print(f"replayed dead letter {escape(view.id)}: delivered again as sequence {view.sequence}")


@dead_letters_app.command("discard")
def discard(
    *,
    dead_letter_id: IdArgument,
    reason: ReasonOption,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete a dead letter for good: it will never be delivered. Asks first unless --yes."""
    if not yes and not stdin_is_interactive():
        fail("refusing to discard without confirmation: stdin is not a terminal; pass --yes to confirm")
    hub = hub_config(config, data_dir)
    who = actor or default_actor()

    async def confirmed_discard(admin: BusAdmin) -> DeadLetter | None:
        if not yes:
            found = await admin.dead_letter(dead_letter_id, actor=who)
            out().print(_summary_table(DeadLetterSummary.of(found)))
            if not typer.confirm("Discard this dead letter for good?", default=False):
                return None
        return await admin.discard(dead_letter_id, actor=who, reason=reason)

    dead = _run(hub, confirmed_discard)
    if dead is None:
        err().print("not discarded")
        raise typer.Exit(1)
    view = DiscardResult(id=dead.id, group=dead.group, event_id=dead.message.envelope.id)
    if as_json:
        _print_json(view)
        return
    out().print(f"discarded dead letter {escape(view.id)} of group {escape(view.group)}")


def stdin_is_interactive() -> bool:
    """True when a person can answer a question on stdin."""
    return sys.stdin is not None and sys.stdin.isatty()


def _run(hub: HubConfig, operation: Callable[[BusAdmin], Awaitable[T]]) -> T:
    """Open the bus, run ``operation`` on it, close it; report expected failures and exit."""
    if hub.bus.kind == "sqlite":
        path = hub.resolve(hub.bus.path)
        if not path.is_file():
            fail(f"no bus at {path}: check --data-dir or --config (the hub creates it when it first starts)")
    try:
        return asyncio.run(_with_admin(hub, operation))
    except DeadLetterNotFound as exc:
        fail(f"{exc}; `polestar bus dead-letters list` shows those that exist")
    except ReasonRequired as exc:
        fail(str(exc), code=2)
    except BusError as exc:
        fail(f"the bus is unavailable: {exc}")
    except ImportError as exc:
        fail(str(exc))
    except AuditError as exc:
        fail(f"the audit log could not record the action: {exc}")
    except (sqlite3.Error, OSError) as exc:
        fail(f"cannot read the bus: {exc}")


async def _with_admin(hub: HubConfig, operation: Callable[[BusAdmin], Awaitable[T]]) -> T:
    engine: BusEngine = open_engine(hub.bus, hub.data_dir)
    audit_log: AuditLog | None = None
    try:
        await engine.start()
        audit_log = await _open_audit_log(hub)
        sinks = [action_sink(hub.log)]
        if audit_log is not None:
            sinks.append(AuditActionSink(audit_log))
        return await operation(BusAdmin(engine, on_action=_EverySink(sinks)))
    finally:
        await engine.close()
        if audit_log is not None:
            await audit_log.close()


async def _open_audit_log(hub: HubConfig) -> AuditLog | None:
    """The hub's audit log (as ``polestar audit`` opens it), unless ``audit.enabled`` is off."""
    if not hub.audit.enabled:
        return None
    try:
        keys = await asyncio.to_thread(AuditKeys.load_or_create, hub.data_dir)
        audit_log = AuditLog(open_store(hub.store_url), keys, checkpoint_interval=None)
        await audit_log.start()
    except SQLAlchemyError as exc:
        raise AuditError(f"cannot open the audit log in the store's database: {exc}") from None
    return audit_log


class _EverySink:
    """Sends each operator action to every sink in turn (stderr, then the audit log)."""

    def __init__(self, sinks: list[OperatorActionSink]) -> None:
        self.sinks = sinks

    async def __call__(self, action: OperatorAction) -> None:
        for sink in self.sinks:
            await sink(action)


def _summary_table(view: DeadLetterSummary) -> Table:
    table = Table(show_header=False, box=None, padding=(0, 2))
    rows = [
        ("dead letter", view.id),
        ("group", view.group),
        ("reason", view.reason),
        ("dead at (UTC)", view.dead_at.strftime("%Y-%m-%d %H:%M:%S")),
        ("attempts", str(view.attempt_count)),
        ("event", f"{view.event_type} {view.event_id}"),
        ("bus subject", view.subject),
        ("bus sequence", str(view.sequence)),
        ("published (UTC)", view.published_at.strftime("%Y-%m-%d %H:%M:%S")),
    ]
    for name, value in rows:
        table.add_row(name, escape(value))
    return table


def _shorten(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_json(view: BaseModel) -> None:
    # Plain print, not Rich: scripts must get exactly the JSON, unwrapped.
    typer.echo(view.model_dump_json(indent=2))
