"""The force's integration folder for flows 3, 4, 7 and 8 loads, and its mapping fixtures pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from polestar.connectors.registry import default_registry
from polestar.demo.harness import force_variables
from polestar.mapping.fixtures import run_mapping_tests
from polestar.mapping.loader import load_mappings
from polestar.routes.loader import load_integration_config
from polestar.sims.runner import SIM_ORDER

FOLDER = Path(__file__).parents[3] / "examples" / "force" / "integration"
MINE = ("calls", "codes", "crime", "custody", "footwear", "intelligence", "prosecutor", "warehouse")
"""The mapping files of flows 3, 4, 7 and 8 (other flows have their own)."""


def test_the_force_folder_loads_with_the_run_variables_filled_in(tmp_path: Path) -> None:
    sims = {name: f"http://127.0.0.1:{9000 + n}" for n, name in enumerate(SIM_ORDER)}
    config = load_integration_config(
        FOLDER, default_registry(), variables=force_variables("http://127.0.0.1:8999", sims, tmp_path)
    )
    for route in ("call-to-crime", "custody-to-warehouse", "custody-to-footwear"):
        assert route in config.routes
    for route in ("case-file-to-prosecutor", "feed-to-intelligence"):
        assert route in config.routes
    footwear = config.connectors["footwear-db"].outbound
    assert footwear is not None
    assert str(getattr(footwear, "url", "")).startswith(sims["footwear"])


@pytest.mark.parametrize("name", MINE)
def test_the_mapping_fixtures_of_each_file_pass(name: str) -> None:
    mappings = load_mappings([FOLDER / "mappings"])
    fixtures = [
        f for f in mappings.fixtures if Path(f.where.split(":")[0]).stem.removesuffix(".test") == name
    ]
    report = run_mapping_tests(mappings, fixtures)
    assert report.passed, [(r.name, r.problems, r.diff) for r in report.failures]
