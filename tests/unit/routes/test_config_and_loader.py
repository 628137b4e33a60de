from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from polestar.connectors.registry import default_registry
from polestar.errors import ConfigError
from polestar.routes.config import RouteConfig
from polestar.routes.loader import load_integration_config

EXAMPLES = Path(__file__).parents[3] / "examples" / "integration"


def _route(**changes) -> dict:
    base = {
        "name": "custody-to-crime",
        "from": {"subjects": ["custody.>"]},
        "to": [{"subject": "routed.custody"}],
    }
    base.update(changes)
    return base


def test_a_route_runs_on_its_own_consumer_group_with_its_retry_policy() -> None:
    route = RouteConfig.model_validate(
        _route(**{"from": {"subjects": ["custody.>"], "max_attempts": 9, "ordered_by_key": True}})
    )
    spec = route.consumer_spec()
    assert spec.group == "route-custody-to-crime"
    assert spec.max_attempts == 9
    assert spec.ordered_by_key


def test_a_choice_must_be_last_and_name_outputs_that_exist() -> None:
    with pytest.raises(ValidationError, match="must be the last step"):
        RouteConfig.model_validate(
            _route(
                steps=[
                    {"step": "choice", "when": [{"expr": "a", "to": "routed.custody"}]},
                    {"step": "filter", "expr": "a"},
                ]
            )
        )
    with pytest.raises(ValidationError, match=r"not in `to`"):
        RouteConfig.model_validate(
            _route(steps=[{"step": "choice", "when": [{"expr": "a", "to": "nowhere"}]}])
        )


def test_an_aggregate_needs_a_completion_and_room_in_flight() -> None:
    with pytest.raises(ValidationError, match="size, timeout or both"):
        RouteConfig.model_validate(_route(steps=[{"step": "aggregate"}]))
    with pytest.raises(ValidationError, match=r"exceeds from\.concurrency"):
        RouteConfig.model_validate(_route(steps=[{"step": "aggregate", "size": 50}]))


def test_the_example_folder_is_valid() -> None:
    config = load_integration_config(EXAMPLES, default_registry())
    assert set(config.routes) == {"custody-to-warehouse", "custody-to-footwear"}
    assert config.routes_using({"footwear-db"}) == {"custody-to-footwear"}


def _write(folder: Path, relative: str, text: str) -> None:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())


def test_every_problem_in_every_file_is_reported_with_file_line_and_column(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "connectors/crime.yaml",
        """
        connectors:
          - name: crime-system
            kind: http
            outbound: {url: "ftp://nowhere"}
        """,
    )
    _write(
        tmp_path,
        "routes/a.yaml",
        """
        routes:
          - name: first
            from: {subjects: ["custody.>"]}
            steps:
              - step: filter
                expr: "data.kind =="
            to:
              - connector: crime-system
          - name: second
            from: {subjects: ["custody.>"]}
            to:
              - connector: pnc
        """,
    )
    _write(
        tmp_path,
        "routes/b.yaml",
        """
        routes:
          - name: second
            from: {subjects: ["x.y"]}
            colour: blue
            to: {subject: x.z}
        """,
    )
    with pytest.raises(ConfigError) as refused:
        load_integration_config(tmp_path, default_registry())
    problems = dict(refused.value.problems)
    a, b, c = tmp_path / "routes/a.yaml", tmp_path / "routes/b.yaml", tmp_path / "connectors/crime.yaml"
    assert "url must start with http" in problems[f"{c}:4:15 connectors[0].outbound"]
    assert "incomplete" in problems[f"{a}:6:15 routes[0].steps[0].expr"]
    assert problems[f"{a}:12:20 routes[1].to[0].connector"].startswith("no connector is named 'pnc'")
    assert problems[f"{b}:4:5 routes[0].colour"] == "unknown setting 'colour'"
    assert len(problems) == 4


def test_names_are_unique_across_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        _write(
            tmp_path,
            f"routes/{name}.yaml",
            "routes:\n  - {name: same, from: {subjects: [x.y]}, to: {subject: x.z}}\n",
        )
    with pytest.raises(ConfigError) as refused:
        load_integration_config(tmp_path, default_registry())
    [(where, why)] = refused.value.problems
    assert where.startswith(f"{tmp_path / 'routes/b.yaml'}:2:")
    assert "also defined at" in why
    assert "a.yaml:2:" in why


def test_invalid_yaml_is_located(tmp_path: Path) -> None:
    _write(tmp_path, "routes/a.yaml", "routes:\n  - name: [unclosed\n")
    with pytest.raises(ConfigError) as refused:
        load_integration_config(tmp_path, default_registry())
    [(where, why)] = refused.value.problems
    assert where.startswith(str(tmp_path / "routes/a.yaml") + ":")
    assert "not valid YAML" in why


def test_a_route_may_not_publish_where_it_reads() -> None:
    with pytest.raises(ValidationError, match="every message would come round again"):
        RouteConfig.model_validate(_route(to=[{"subject": "custody.routed.recorded"}]))
    with pytest.raises(ValidationError, match="every message would come round again"):
        RouteConfig.model_validate(_route(steps=[{"step": "wiretap", "subject": "custody.tapped"}]))
