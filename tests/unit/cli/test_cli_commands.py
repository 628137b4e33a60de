import json
import os
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from polestar import __version__
from polestar.cli import root
from polestar.cli.schema import openapi_document
from polestar.config import HubConfig

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def no_setting_overrides(monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("POLESTAR_") and name[9:].lower().split("__")[0] in HubConfig.model_fields:
            monkeypatch.delenv(name)


@pytest.fixture
def polestar():
    runner = CliRunner()

    def run(*args):
        return runner.invoke(root, list(args))

    return run


def test_help_lists_the_commands_operators_rely_on(polestar):
    result = polestar("--help")
    assert result.exit_code == 0
    for command in ("up", "demo", "version", "config", "schema"):
        assert command in result.output


def test_version_prints_the_installed_version(polestar):
    result = polestar("version")
    assert result.exit_code == 0
    assert f"polestar {__version__}" in result.output


@pytest.mark.parametrize("name", ["polestar.yaml", "cluster.yaml"])
def test_config_check_passes_the_shipped_examples(polestar, name):
    result = polestar("config", "check", str(REPO / "examples" / name))
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output
    assert "profile" in result.output


def test_config_check_lists_every_problem_with_path_and_line(polestar, tmp_path):
    bad = tmp_path / "polestar.yaml"
    bad.write_text("api:\n  port: 99999\nbus:\n  kind: sqlite\n  synchronous: SOMETIMES\n", encoding="utf-8")
    result = polestar("config", "check", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:2:9 api.port: Input should be less than or equal to 65535" in result.stderr
    assert f"{bad}:5:16 bus.synchronous: Input should be 'FULL' or 'NORMAL'" in result.stderr
    assert "2 problems" in result.stderr
    assert "Traceback" not in result.output


def test_config_check_of_a_missing_file_says_so_without_a_traceback(polestar, tmp_path):
    result = polestar("config", "check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1
    assert "no such file" in result.stderr
    assert "Traceback" not in result.output


def test_config_check_mentions_environment_overrides(polestar, monkeypatch):
    monkeypatch.setenv("POLESTAR_API__PORT", "9000")
    result = polestar("config", "check", str(REPO / "examples" / "polestar.yaml"))
    assert result.exit_code == 0
    assert "POLESTAR_API__PORT" in result.output
    assert ":9000" in result.output


def test_config_check_never_prints_a_store_password(polestar, monkeypatch):
    monkeypatch.setenv("POLESTAR_STORE__URL", "postgresql+asyncpg://hub:s3cret@127.0.0.1:5432/polestar")
    result = polestar("config", "check", str(REPO / "examples" / "cluster.yaml"))
    assert result.exit_code == 0
    assert "s3cret" not in result.output


def test_config_schema_is_the_json_schema_of_polestar_yaml(polestar):
    result = polestar("config", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert {"profile", "api", "bus", "store"} <= set(schema["properties"])


def test_up_refuses_a_port_out_of_range_with_usage_exit_code(polestar):
    result = polestar("up", "--port", "70000")
    assert result.exit_code == 2
    assert "--port" in result.output


def test_up_reports_an_invalid_config_file(polestar, tmp_path):
    bad = tmp_path / "polestar.yaml"
    bad.write_text("profile: galaxy\n", encoding="utf-8")
    result = polestar("up", "--config", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:1:10 profile" in result.stderr


def test_up_reports_a_port_already_in_use(polestar, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = polestar("up", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_demo_refuses_to_wipe_a_folder_it_did_not_make(polestar, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    result = polestar("demo", "--once", "--data-dir", str(precious), "--port", "0")
    assert result.exit_code == 1
    assert "refusing to wipe" in result.stderr
    assert (precious / "notes.txt").exists()


def test_schema_export_writes_schemas_and_dictionary(polestar, tmp_path):
    result = polestar("schema", "export", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "schemas" / "envelope.schema.json").is_file()
    assert (tmp_path / "data-dictionary" / "index.md").is_file()
    assert json.loads((tmp_path / "openapi.json").read_text(encoding="utf-8"))["info"]["title"] == "Polestar"
    assert polestar("schema", "export", "--check", str(tmp_path)).exit_code == 0


def test_committed_openapi_document_matches_the_api():
    committed = (REPO / "docs" / "openapi.json").read_text(encoding="utf-8")
    assert committed == openapi_document(), "docs/openapi.json is out of date; run `make docs`"


def test_schema_export_check_fails_on_a_stale_openapi_document(polestar, tmp_path):
    polestar("schema", "export", str(tmp_path))
    (tmp_path / "openapi.json").write_text("{}\n", encoding="utf-8")
    result = polestar("schema", "export", "--check", str(tmp_path))
    assert result.exit_code == 1
    assert "changed: openapi.json" in result.stderr


def test_schema_export_check_fails_on_stale_docs(polestar, tmp_path):
    polestar("schema", "export", str(tmp_path))
    (tmp_path / "data-dictionary" / "index.md").write_text("old\n", encoding="utf-8")
    result = polestar("schema", "export", "--check", str(tmp_path))
    assert result.exit_code == 1
    assert "changed: data-dictionary/index.md" in result.stderr
    assert "make docs" in result.stderr
