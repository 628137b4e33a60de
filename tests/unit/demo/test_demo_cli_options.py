"""``polestar demo``'s options: bad ones are refused before anything starts, naming the problem."""

from __future__ import annotations

from typer.testing import CliRunner

from polestar.cli.app import root


def _demo(*args: str):
    return CliRunner().invoke(root, ["demo", *args])


def test_demo_refuses_a_count_of_zero(tmp_path):
    result = _demo("--once", "--count", "0", "--data-dir", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert "--count" in result.output
    assert not (tmp_path / "run").exists()


def test_demo_refuses_a_flow_number_it_does_not_have(tmp_path):
    result = _demo("--once", "--flow", "1", "--flow", "5", "--data-dir", str(tmp_path / "run"))
    assert result.exit_code == 2
    assert "--flow: no flow is numbered 5; the flows are 1, 2, 3, 4, 7, 8" in result.output
    assert not (tmp_path / "run").exists()
