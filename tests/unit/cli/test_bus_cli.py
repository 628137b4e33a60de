"""``polestar bus ...`` against a real embedded bus in a temporary data folder."""

import asyncio
import json
import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

import polestar.cli.bus as bus_cli
from polestar.bus.admin import ActionOutcome, OperatorActionKind
from polestar.bus.config import SqliteBusConfig
from polestar.bus.contract import BackoffPolicy, ConsumerSpec
from polestar.bus.sqlite import SqliteEngine
from polestar.cli import _hub as hub_options
from polestar.cli import root
from polestar.config import HubConfig
from polestar.model.envelope import Envelope

GROUP = "custody-to-warehouse"


@pytest.fixture(autouse=True)
def no_setting_overrides(monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("POLESTAR_") and name[9:].lower().split("__")[0] in HubConfig.model_fields:
            monkeypatch.delenv(name)


@pytest.fixture
def closed_port():
    """A local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def actions(monkeypatch):
    """Every OperatorAction the commands record, in order."""
    recorded = []

    async def record(action):
        recorded.append(action)

    monkeypatch.setattr(bus_cli, "action_sink", lambda _log: record)
    return recorded


@pytest.fixture
def polestar(data_dir):
    runner = CliRunner(env={"COLUMNS": "200"})  # an operator's terminal, not 80 columns

    def run(*args, data=True, stdin=None):
        extra = ["--data-dir", str(data_dir)] if data else []
        return runner.invoke(root, [*args, *extra], input=stdin)

    return run


def dead_letter(data_dir: Path, reason: str = "no custody mapping for code ZZ", n: int = 1) -> str:
    """Publish a custody event, have the group reject it, and return the dead letter's id."""

    async def make() -> str:
        engine = SqliteEngine(SqliteBusConfig(poll_interval=0.02), data_dir=data_dir)
        await engine.start()
        try:
            consumer = await engine.subscribe(
                ConsumerSpec(group=GROUP, backoff=BackoffPolicy(initial=0.05, jitter=0))
            )
            await engine.publish(
                Envelope(source="/connectors/custody", type="custody.detainee.released", subject=f"CUS-{n}")
            )
            (delivery,) = await consumer.fetch(1, timeout=5)
            await delivery.reject(reason)
            await consumer.close()
            (dead,) = [
                d for d in await engine.dead_letters(GROUP) if d.message.envelope.subject == f"CUS-{n}"
            ]
            return dead.id
        finally:
            await engine.close()

    return asyncio.run(make())


def pending_for_group(data_dir: Path) -> list[str]:
    """Subjects of the events the group receives next (delivered and acknowledged here)."""

    async def fetch() -> list[str]:
        async with SqliteEngine(SqliteBusConfig(poll_interval=0.02), data_dir=data_dir) as engine:
            consumer = await engine.subscribe(ConsumerSpec(group=GROUP))
            deliveries = await consumer.fetch(10, timeout=2)
            for d in deliveries:
                await d.ack()
            await consumer.close()
            return [d.message.envelope.subject for d in deliveries]

    return asyncio.run(fetch())


def test_bus_is_listed_in_the_help(polestar):
    result = polestar("--help", data=False)
    assert "bus" in result.output


def test_stats_shows_the_group_backlog_and_dead_letters(polestar, data_dir, actions):
    dead_letter(data_dir)
    result = polestar("bus", "stats", "--actor", "user:pc1234")
    assert result.exit_code == 0, result.output
    assert "sqlite bus: 1 messages kept" in result.output
    assert "1 dead letters" in result.output
    assert GROUP in result.output
    assert [(a.action, a.actor, a.outcome) for a in actions] == [
        (OperatorActionKind.STATS_VIEWED, "user:pc1234", ActionOutcome.SUCCEEDED)
    ]


def test_stats_as_json_for_scripts(polestar, data_dir, actions):
    dead_letter(data_dir)
    result = polestar("bus", "stats", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    assert stats["engine"] == "sqlite"
    assert stats["dead_letters"] == 1
    assert [g["group"] for g in stats["groups"]] == [GROUP]


def test_list_shows_each_dead_letter_with_its_reason(polestar, data_dir, actions):
    first = dead_letter(data_dir, "no custody mapping for code ZZ", n=1)
    second = dead_letter(data_dir, "crime recording refused: missing offence code", n=2)
    result = polestar("bus", "dead-letters", "list", "--json", "--group", GROUP)
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    assert [d["id"] for d in listing["dead_letters"]] == [first, second]
    assert "envelope" not in listing["dead_letters"][0]  # no payloads in a listing

    table = polestar("bus", "dead-letters", "list")
    assert "no custody mapping for code ZZ" in table.output
    assert "custody.detainee.released" in table.output
    assert actions[0].action is OperatorActionKind.DEAD_LETTERS_LISTED
    assert actions[0].target == GROUP
    assert actions[0].detail == "2 listed"


def test_list_of_an_empty_bus_says_so(polestar, data_dir, actions):
    dead_letter(data_dir)
    result = polestar("bus", "dead-letters", "list", "--group", "nobody")
    assert result.exit_code == 0
    assert "no dead letters in group nobody" in result.output


def test_show_gives_the_reason_history_and_event(polestar, data_dir, actions):
    dead_id = dead_letter(data_dir)
    result = polestar("bus", "dead-letters", "show", dead_id)
    assert result.exit_code == 0, result.output
    assert "no custody mapping for code ZZ" in result.output
    assert "CUS-1" in result.output

    detail = json.loads(polestar("bus", "dead-letters", "show", dead_id, "--json").stdout)
    assert detail["envelope"]["subject"] == "CUS-1"
    assert [a["reason"] for a in detail["attempts"]] == ["no custody mapping for code ZZ"]
    viewed = actions[-1]
    assert viewed.action is OperatorActionKind.DEAD_LETTER_VIEWED
    assert (viewed.target, viewed.group, viewed.event_id) == (dead_id, GROUP, detail["envelope"]["id"])


def test_replay_sends_it_back_to_its_group_and_records_who_and_why(polestar, data_dir, actions):
    dead_id = dead_letter(data_dir)
    result = polestar(
        "bus", "dead-letters", "replay", dead_id, "--reason", "mapping for ZZ added", "--actor", "user:sgt7"
    )
    assert result.exit_code == 0, result.output
    assert f"replayed dead letter {dead_id}" in result.output
    assert pending_for_group(data_dir) == ["CUS-1"]
    assert json.loads(polestar("bus", "dead-letters", "list", "--json").stdout)["dead_letters"] == []
    (replayed,) = actions[:1]
    assert replayed.action is OperatorActionKind.DEAD_LETTER_REPLAYED
    assert replayed.outcome is ActionOutcome.SUCCEEDED
    assert (replayed.actor, replayed.reason, replayed.target) == (
        "user:sgt7",
        "mapping for ZZ added",
        dead_id,
    )
    assert replayed.event_type == "custody.detainee.released"


def test_discard_with_yes_deletes_it_and_records_the_reason(polestar, data_dir, actions):
    dead_id = dead_letter(data_dir)
    result = polestar(
        "bus", "dead-letters", "discard", dead_id, "--reason", "test record sent in error", "--yes", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "id": dead_id,
        "outcome": "discarded",
        "group": GROUP,
        "event_id": actions[0].event_id,
    }
    assert pending_for_group(data_dir) == []
    assert polestar("bus", "dead-letters", "show", dead_id).exit_code == 1
    assert actions[0].action is OperatorActionKind.DEAD_LETTER_DISCARDED
    assert actions[0].reason == "test record sent in error"


def test_discard_asks_first_at_a_terminal_and_keeps_it_when_told_no(polestar, data_dir, actions, monkeypatch):
    monkeypatch.setattr(bus_cli, "stdin_is_interactive", lambda: True)
    dead_id = dead_letter(data_dir)
    result = polestar("bus", "dead-letters", "discard", dead_id, "--reason", "duplicate", stdin="n\n")
    assert result.exit_code == 1
    assert "Discard this dead letter for good?" in result.output
    assert "not discarded" in result.stderr
    assert [a.action for a in actions] == [OperatorActionKind.DEAD_LETTER_VIEWED]

    confirmed = polestar("bus", "dead-letters", "discard", dead_id, "--reason", "duplicate", stdin="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert actions[-1].action is OperatorActionKind.DEAD_LETTER_DISCARDED


def test_discard_without_yes_and_no_terminal_refuses(polestar, data_dir, actions):
    dead_id = dead_letter(data_dir)
    result = polestar("bus", "dead-letters", "discard", dead_id, "--reason", "duplicate")
    assert result.exit_code == 1
    assert "stdin is not a terminal; pass --yes" in result.stderr
    assert actions == []
    assert polestar("bus", "dead-letters", "show", dead_id).exit_code == 0


@pytest.mark.parametrize("command", ["replay", "discard"])
def test_replay_and_discard_need_a_reason(polestar, data_dir, actions, command):
    dead_id = dead_letter(data_dir)
    yes = ["--yes"] if command == "discard" else []
    missing = polestar("bus", "dead-letters", command, dead_id, *yes)
    assert missing.exit_code == 2
    assert "--reason" in missing.output
    blank = polestar("bus", "dead-letters", command, dead_id, "--reason", "  ", *yes)
    assert blank.exit_code == 2
    assert "a reason is required" in blank.stderr
    assert "Traceback" not in blank.output
    assert [(a.action.value, a.outcome) for a in actions] == [
        (f"dead_letter.{command}ed", ActionOutcome.REFUSED)
    ]
    assert polestar("bus", "dead-letters", "show", dead_id).exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("show", "no-such-id"),
        ("replay", "no-such-id", "--reason", "fixed"),
        ("discard", "no-such-id", "--reason", "noise", "--yes"),
    ],
)
def test_unknown_dead_letter_is_a_clear_error(polestar, data_dir, actions, args):
    dead_letter(data_dir)
    result = polestar("bus", "dead-letters", *args)
    assert result.exit_code == 1
    assert "no dead letter 'no-such-id'" in result.stderr
    assert "Traceback" not in result.output
    assert actions[-1].outcome is ActionOutcome.NOT_FOUND


def test_a_data_folder_without_a_bus_is_reported_not_created(polestar, data_dir):
    result = polestar("bus", "stats")
    assert result.exit_code == 1
    assert f"no bus at {data_dir / 'bus.sqlite3'}" in result.stderr
    assert not data_dir.exists()


def test_an_invalid_config_file_is_reported(polestar, tmp_path):
    bad = tmp_path / "polestar.yaml"
    bad.write_text("bus:\n  kind: sqlite\n  synchronous: SOMETIMES\n", encoding="utf-8")
    result = polestar("bus", "stats", "--config", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:3:16 bus.synchronous" in result.stderr


def test_an_unreachable_nats_is_a_clear_error(polestar, tmp_path, closed_port):
    cluster = tmp_path / "cluster.yaml"
    cluster.write_text(
        "profile: cluster\n"
        "store:\n  url: postgresql+asyncpg://polestar@127.0.0.1:5432/polestar\n"
        f"bus:\n  servers: ['nats://127.0.0.1:{closed_port}']\n  connect_timeout: 0.5\n",
        encoding="utf-8",
    )
    result = polestar("bus", "stats", "--config", str(cluster), data=False)
    assert result.exit_code == 1
    assert "the bus is unavailable: cannot connect to NATS" in result.stderr
    assert "Traceback" not in result.output


def test_operator_actions_are_written_to_stderr_by_default(polestar, data_dir, monkeypatch):
    monkeypatch.setenv("POLESTAR_LOG__FORMAT", "json")
    dead_id = dead_letter(data_dir)
    result = polestar("bus", "dead-letters", "replay", dead_id, "--reason", "fixed", "--actor", "user:sgt7")
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert line["event"] == "operator_action"
    assert line["action"] == "dead_letter.replayed"
    assert line["actor"] == "user:sgt7"
    assert line["reason"] == "fixed"
    assert line["outcome"] == "succeeded"


def test_the_default_actor_is_the_login_name(monkeypatch):
    monkeypatch.setattr(hub_options.getpass, "getuser", lambda: "pc1234")
    assert hub_options.default_actor() == "user:pc1234"
