"""``${NAME}`` in integration files: filled in from the variables given, every problem located."""

from __future__ import annotations

import pytest

from polestar.config.interpolation import InterpolationProblem, interpolate_document, interpolate_text
from polestar.config.yaml_document import parse_yaml_document
from polestar.connectors.registry import default_registry
from polestar.errors import ConfigError
from polestar.routes.loader import load_integration_config

PNC = {"POLESTAR_SIM_PNC_URL": "http://127.0.0.1:8100"}


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("${POLESTAR_SIM_PNC_URL}/pnc", "http://127.0.0.1:8100/pnc"),
        ("${POLESTAR_SIM_PNC_URL:-http://x}", "http://127.0.0.1:8100"),
        ("${UNSET:-http://127.0.0.1:9/a b}", "http://127.0.0.1:9/a b"),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY}", ""),
        ("$${POLESTAR_SIM_PNC_URL}", "${POLESTAR_SIM_PNC_URL}"),
        ("costs $5, $$ and $name", "costs $5, $$ and $name"),
        ("${A}${A}", "aa"),
        ("no variables", "no variables"),
    ],
)
def test_variables_are_filled_in(written, expected):
    assert interpolate_text(written, {**PNC, "EMPTY": "", "A": "a"}) == expected


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("${MISSING}", "`${MISSING}` is not set"),
        ("url ${OPEN", "`${OPEN` is not closed"),
        ("${not valid}", "`${not valid}` is not a variable reference"),
        ("${}", "`${}` is not a variable reference"),
        ("${A:default}", "`${A:default}` is not a variable reference"),
    ],
)
def test_a_bad_reference_is_refused_with_the_reason(written, reason):
    with pytest.raises(InterpolationProblem, match="^" + reason.replace("$", r"\$").replace("{", r"\{")):
        interpolate_text(written, {"A": "a"})


def test_only_values_are_interpolated_and_other_types_are_left_alone():
    text = "connectors:\n  - name: pnc\n    retries: 3\n    '${KEY}': '${POLESTAR_SIM_PNC_URL}'\n"
    document, problems = interpolate_document(parse_yaml_document(text), "pnc.yaml", PNC, text=text)
    assert problems == []
    assert document.data == {"connectors": [{"name": "pnc", "retries": 3, "${KEY}": "http://127.0.0.1:8100"}]}


def test_an_unset_variable_is_located_at_the_reference_itself():
    text = "connectors:\n  - name: pnc\n    outbound:\n      url: 'http://${HOST}/pnc'\n"
    _, problems = interpolate_document(parse_yaml_document(text), "pnc.yaml", {}, text=text)
    assert problems == [
        (
            "pnc.yaml:4:20 connectors[0].outbound.url",
            "`${HOST}` is not set (set the variable, or give a default: ${HOST:-...})",
        )
    ]


def _integration(tmp_path, connector: str):
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "pnc.yaml").write_text(connector, encoding="utf-8")
    return tmp_path


CONNECTOR = """\
connectors:
  - name: pnc-enquiries
    kind: http
    format: json
    outbound:
      url: ${POLESTAR_SIM_PNC_URL}/enquiries
"""


def test_loader_fills_in_connector_urls_from_the_variables_given(tmp_path):
    config = load_integration_config(_integration(tmp_path, CONNECTOR), default_registry(), variables=PNC)
    assert config.connectors["pnc-enquiries"].outbound.url == "http://127.0.0.1:8100/enquiries"


def test_loader_reads_the_environment_when_given_no_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("POLESTAR_SIM_PNC_URL", "http://127.0.0.1:8999")
    config = load_integration_config(_integration(tmp_path, CONNECTOR), default_registry())
    assert config.connectors["pnc-enquiries"].outbound.url == "http://127.0.0.1:8999/enquiries"


def test_loader_names_the_file_line_and_column_of_an_unset_variable(tmp_path):
    folder = _integration(tmp_path, CONNECTOR)
    with pytest.raises(ConfigError) as raised:
        load_integration_config(folder, default_registry(), variables={})
    file = folder / "connectors" / "pnc.yaml"
    assert raised.value.problems == [
        (
            f"{file}:6:12 connectors[0].outbound.url",
            "`${POLESTAR_SIM_PNC_URL}` is not set "
            "(set the variable, or give a default: ${POLESTAR_SIM_PNC_URL:-...})",
        )
    ]
    assert f"{file}:6:12" in str(raised.value)
