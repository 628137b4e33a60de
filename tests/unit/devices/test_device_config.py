"""The device gateway's configuration: loaded from the integration folder, every problem located."""

from __future__ import annotations

from pathlib import Path

import pytest

from polestar.devices.config import DispatchConfig, load_device_config
from polestar.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "force" / "integration"


def _folder(tmp_path: Path, **files: str) -> Path:
    (tmp_path / "devices").mkdir()
    for name, text in files.items():
        (tmp_path / "devices" / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_the_force_example_names_pnc_for_both_checks() -> None:
    config = load_device_config(EXAMPLE)
    assert config is not None
    assert (config.checks.person_connector, config.checks.vehicle_connector) == ("pnc", "pnc")
    assert config.checks.breaker.open_seconds > 0


def test_a_folder_without_a_gateway_has_none(tmp_path: Path) -> None:
    assert load_device_config(tmp_path) is None


def test_a_wrong_key_is_located_by_file_line_and_path(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        **{"gateway.yaml": "devices:\n  checks:\n    person_connector: pnc\n    vehicle_conector: pnc\n"},
    )
    with pytest.raises(ConfigError) as caught:
        load_device_config(folder)
    places = [where for where, _ in caught.value.problems]
    assert any(p.startswith("devices/gateway.yaml:4:") and "vehicle_conector" in p for p in places), places
    assert any("vehicle_connector" in p for p in places), places


def test_two_files_configuring_the_gateway_are_refused(tmp_path: Path) -> None:
    text = "devices:\n  checks: {person_connector: pnc, vehicle_connector: pnc}\n"
    folder = _folder(tmp_path, **{"a.yaml": text, "b.yaml": text})
    with pytest.raises(ConfigError, match=r"already configured in devices/a\.yaml"):
        load_device_config(folder)


def test_yaml_that_does_not_parse_is_located(tmp_path: Path) -> None:
    folder = _folder(tmp_path, **{"gateway.yaml": "devices: [\n"})
    with pytest.raises(ConfigError) as caught:
        load_device_config(folder)
    assert caught.value.problems[0][0].startswith("devices/gateway.yaml:")


@pytest.mark.parametrize(
    ("device", "call_sign"),
    [("IVMA-CX21", "CX21"), ("ivma-bx11", "BX11"), ("TAB-0042", "0042"), ("---", None)],
)
def test_a_device_rides_with_the_call_sign_at_the_end_of_its_id(device: str, call_sign: str | None) -> None:
    assert DispatchConfig().call_sign_of(device) == call_sign


def test_a_listed_device_uses_its_listed_call_sign() -> None:
    assert DispatchConfig(call_signs={"TAB-0042": "lw05"}).call_sign_of("TAB-0042") == "LW05"


def test_a_call_sign_pattern_without_its_group_is_refused() -> None:
    with pytest.raises(ValueError, match="call_sign"):
        DispatchConfig(call_sign_pattern="[A-Z]+$")
