from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from polestar.cli.routes import app
from polestar.model.envelope import Envelope

EXAMPLES = Path(__file__).parents[3] / "examples" / "integration"


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner(env={"COLUMNS": "200"})


def _person(tmp_path: Path, identifiers: list) -> Path:
    event = Envelope(
        source="/connectors/custody-files",
        type="person.created",
        dataschema="urn:polestar:schema:person:1.0",
        classification="OFFICIAL-SENSITIVE [PERSONAL]",
        data={
            "provenance": {
                "organisation": "01",
                "system": "custody",
                "reference": "01CX/004512/26",
                "recorded_at": "2026-11-23T21:52:10Z",
            },
            "name": {"given": "Daniel", "family": "Okafor"},
            "date_of_birth": "1994-03-17",
            "gender": "1",
            "identifiers": identifiers,
        },
    )
    path = tmp_path / "person.json"
    path.write_bytes(event.to_json())
    return path


def test_check_accepts_the_example_folder(cli: CliRunner) -> None:
    result = cli.invoke(app, ["check", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert "3 connector(s), 4 mapping(s), 2 route(s)" in result.output


def test_check_lists_each_problem_with_its_place(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "r.yaml").write_text(
        "routes:\n  - name: r\n    from: {subjects: [a.b]}\n    to: [{connector: pnc}]\n"
    )
    result = cli.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        f"{tmp_path / 'routes' / 'r.yaml'}:4:22 routes[0].to[0].connector: no connector is named 'pnc'"
        in result.output
    )


def test_test_shows_each_step_and_what_would_be_sent_without_sending(cli: CliRunner, tmp_path: Path) -> None:
    sample = _person(tmp_path, [{"type": "PNC", "value": "2012/0052494Q"}])
    result = cli.invoke(app, ["test", "custody-to-footwear", "--input", str(sample), "--dir", str(EXAMPLES)])
    assert result.exit_code == 0, result.output
    assert "1. filter: 1 in, 1 out" in result.output
    assert "2. throttle: 1 in, 1 out" in result.output
    assert "(not run: would let 5.0/s through)" in result.output
    assert "footwear-db (connector footwear-db) would get:" in result.output
    assert "<Surname>OKAFOR</Surname>" in result.output


def test_test_says_when_a_message_is_filtered(cli: CliRunner, tmp_path: Path) -> None:
    sample = _person(tmp_path, [])
    result = cli.invoke(
        app, ["test", "custody-to-footwear", "--input", str(sample), "--dir", str(EXAMPLES), "--json"]
    )
    assert result.exit_code == 0, result.output
    preview = json.loads(result.output)
    assert preview["steps"][0]["produced"] == []
    assert preview["outputs"] == []


def test_test_names_an_unknown_route(cli: CliRunner, tmp_path: Path) -> None:
    sample = _person(tmp_path, [])
    result = cli.invoke(app, ["test", "nope", "--input", str(sample), "--dir", str(EXAMPLES)])
    assert result.exit_code == 1
    assert "no route is named 'nope'" in result.output
