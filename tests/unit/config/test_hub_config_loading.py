import os
import textwrap
from pathlib import Path

import pytest

from polestar.bus.config import JetStreamBusConfig, SqliteBusConfig
from polestar.config import HubConfig, Profile, load_config, redact_url
from polestar.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def no_setting_overrides(monkeypatch):
    for name in list(os.environ):
        if name.upper().startswith("POLESTAR_") and name[9:].lower().split("__")[0] in HubConfig.model_fields:
            monkeypatch.delenv(name)


def write(tmp_path, text, name="polestar.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path):
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


@pytest.mark.parametrize("name", ["polestar.yaml", "cluster.yaml"])
def test_shipped_examples_are_valid(name):
    config = load_config(REPO / "examples" / name)
    assert config.profile in set(Profile)


def test_embedded_example_runs_sqlite_bus_and_store_under_the_data_folder():
    config = load_config(REPO / "examples" / "polestar.yaml")
    assert isinstance(config.bus, SqliteBusConfig)
    assert config.resolve(config.bus.path) == Path(".polestar/data/bus.sqlite3")
    assert config.store_url == "sqlite:///.polestar/data/store.sqlite3"


def test_cluster_example_runs_jetstream_and_postgresql_on_localhost():
    config = load_config(REPO / "examples" / "cluster.yaml")
    assert isinstance(config.bus, JetStreamBusConfig)
    assert config.bus.servers == ("nats://127.0.0.1:4222",)
    assert config.store_url.startswith("postgresql+asyncpg://")
    assert "@127.0.0.1:5432/" in config.store_url


def test_no_file_means_embedded_defaults():
    config = load_config()
    assert config.profile is Profile.EMBEDDED
    assert config.bus.kind == "sqlite"
    assert config.display_timezone == "Europe/London"
    assert config.api.base_url() == "http://127.0.0.1:8000"


def test_an_empty_file_means_the_defaults(tmp_path):
    assert load_config(write(tmp_path, "")) == HubConfig()


def test_cluster_profile_alone_chooses_jetstream_and_demands_a_store_url(tmp_path):
    path = write(tmp_path, "profile: cluster\n")
    assert problems_of(path) == [
        (
            f"{path}:1:1 store",
            "the cluster profile needs store.url, e.g. postgresql+asyncpg://polestar@HOST:5432/polestar",
        )
    ]


def test_environment_overrides_the_file_through_nested_names(tmp_path, monkeypatch):
    path = write(
        tmp_path,
        """
        api:
          host: 127.0.0.1
          port: 8000
        bus:
          kind: sqlite
          synchronous: FULL
        """,
    )
    monkeypatch.setenv("POLESTAR_API__PORT", "9000")
    monkeypatch.setenv("POLESTAR_BUS__SYNCHRONOUS", "NORMAL")
    config = load_config(path)
    assert config.api.port == 9000
    assert config.api.host == "127.0.0.1"
    assert isinstance(config.bus, SqliteBusConfig)
    assert config.bus.synchronous == "NORMAL"


def test_unrelated_polestar_variables_are_ignored(monkeypatch):
    monkeypatch.setenv("POLESTAR_REQUIRE_SERVICES", "1")
    monkeypatch.setenv("POLESTAR_TEST_NATS_URL", "nats://x:4222")
    assert load_config() == HubConfig()


def test_every_problem_is_reported_with_its_line_column_and_path(tmp_path):
    path = write(
        tmp_path,
        """
        profile: embedded
        api:
          port: 99999
          colour: blue
        bus:
          kind: sqlite
          synchronous: SOMETIMES
        display_timezone: Mars/Olympus
        """,
    )
    problems = dict(problems_of(path))
    assert problems == {
        f"{path}:3:9 api.port": "Input should be less than or equal to 65535",
        f"{path}:4:3 api.colour": "Extra inputs are not permitted",
        f"{path}:7:16 bus.synchronous": "Input should be 'FULL' or 'NORMAL'",
        f"{path}:8:19 display_timezone": (
            "unknown time zone 'Mars/Olympus'; use an IANA name such as 'Europe/London'"
        ),
    }


def test_message_lists_each_problem_on_its_own_line(tmp_path):
    path = write(tmp_path, "bus:\n  kind: sqlite\n  synchronous: SOMETIMES\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:3:16 bus.synchronous: Input should be 'FULL' or 'NORMAL'" in str(caught.value)


def test_profile_and_bus_kind_must_agree(tmp_path):
    path = write(tmp_path, "profile: embedded\nbus:\n  kind: jetstream\n")
    ((where, why),) = problems_of(path)
    assert where == f"{path}:3:3 bus"
    assert "embedded profile runs the sqlite bus, but bus.kind is 'jetstream'" in why


def test_cluster_store_must_be_postgresql_asyncpg(tmp_path):
    path = write(tmp_path, "profile: cluster\nstore:\n  url: sqlite:///store.sqlite3\n")
    ((where, why),) = problems_of(path)
    assert where == f"{path}:3:3 store"
    assert "postgresql+asyncpg://" in why


def test_unknown_top_level_key_points_at_the_key(tmp_path):
    path = write(tmp_path, "profile: embedded\nprofiel: cluster\n")
    assert problems_of(path) == [(f"{path}:2:1 profiel", "Extra inputs are not permitted")]


def test_problem_in_a_list_item_names_its_index(tmp_path):
    path = write(
        tmp_path,
        """
        profile: cluster
        bus:
          kind: jetstream
          servers:
            - nats://a:4222
            - 42
        store:
          url: postgresql+asyncpg://polestar@127.0.0.1:5432/polestar
        """,
    )
    ((where, why),) = problems_of(path)
    assert where == f"{path}:6:7 bus.servers.1"
    assert why == "Input should be a valid string"


def test_problem_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("POLESTAR_API__PORT", "not-a-port")
    path = write(tmp_path, "api:\n  port: 8000\n")
    ((where, why),) = problems_of(path)
    assert where == "environment POLESTAR_API__PORT (api.port)"
    assert "valid integer" in why


def test_malformed_yaml_is_reported_with_its_line(tmp_path):
    path = write(tmp_path, "api:\n  port: 8000\n host: x\n")
    ((where, why),) = problems_of(path)
    assert where.startswith(f"{path}:3:")
    assert why.startswith("not valid YAML")


def test_top_level_must_be_a_mapping(tmp_path):
    path = write(tmp_path, "- profile: embedded\n")
    assert problems_of(path) == [(f"{path}:1:1", "the top level must be a mapping of settings, not a list")]


def test_repeated_key_is_a_problem(tmp_path):
    path = write(tmp_path, "api:\n  port: 8000\n  port: 9000\n")
    assert problems_of(path) == [(f"{path}:3:3", "api.port is given twice (first at line 2)")]


def test_missing_file_is_a_config_error(tmp_path):
    path = tmp_path / "absent.yaml"
    assert problems_of(path) == [(str(path), "no such file")]


def test_folder_instead_of_file_is_a_config_error(tmp_path):
    assert problems_of(tmp_path) == [(str(tmp_path), "is a folder, not a YAML file")]


def test_changes_are_validated_again():
    config = HubConfig().with_changes({"api": {"port": 9001}, "data_dir": Path("/tmp/hub")})
    assert config.api.port == 9001
    assert config.api.host == "127.0.0.1"
    assert config.data_dir == Path("/tmp/hub")


def test_store_password_is_redacted_for_display():
    assert redact_url("postgresql+asyncpg://hub:s3cret@db:5432/p") == "postgresql+asyncpg://hub:***@db:5432/p"
    assert redact_url("sqlite:///x.sqlite3") == "sqlite:///x.sqlite3"
