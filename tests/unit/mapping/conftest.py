from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest

from polestar.mapping import MappingContext, load_mappings

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "integration" / "mappings"

PROVENANCE = """
    provenance:
      organisation: {$const: "01"}
      system: {$const: custody}
      reference: ref
"""


@pytest.fixture
def load(tmp_path):
    """Write YAML text to a file (dedented) and load it, with the files named after."""

    def run(text, *others):
        paths = []
        for number, body in enumerate((text, *others)):
            path = tmp_path / f"m{number}.yaml"
            path.write_text(dedent(body), encoding="utf-8")
            paths.append(path)
        return load_mappings(paths)

    return run


@pytest.fixture
def context():
    def make(connector="custody-files", where="custody.csv:2", **changes):
        base = {
            "connector": connector,
            "source": f"/connectors/{connector}",
            "where": where,
            "received_at": datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
        }
        base.update(changes)
        return MappingContext(**base)

    return make
