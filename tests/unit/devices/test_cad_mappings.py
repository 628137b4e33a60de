"""The force's CAD mappings (flow 2) pass their fixtures, and the integration folder loads with them."""

from __future__ import annotations

from pathlib import Path

from polestar.mapping.fixtures import run_mapping_tests
from polestar.mapping.loader import load_mappings

MAPPINGS = Path(__file__).resolve().parents[3] / "examples" / "force" / "integration" / "mappings"


def test_the_cad_mapping_fixtures_pass() -> None:
    mappings = load_mappings([MAPPINGS])
    fixtures = [f for f in mappings.fixtures if Path(f.where.split(":")[0]).name == "cad.test.yaml"]
    assert len(fixtures) == 5
    report = run_mapping_tests(mappings, fixtures)
    assert report.passed, [(r.name, r.problems, r.diff) for r in report.failures]
