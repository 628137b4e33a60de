from pathlib import Path

import polestar.resolution
import polestar.search
from polestar.resolution.tables import metadata as resolution_tables
from polestar.search.tables import metadata as search_tables

DOCS = (Path(__file__).parents[3] / "docs" / "search.md").read_text(encoding="utf-8")


def test_docs_describe_every_table():
    tables = set(search_tables.tables) | set(resolution_tables.tables)
    missing = sorted(t for t in tables if f"`{t}`" not in DOCS)
    assert not missing, f"docs/search.md does not describe {missing}"


def test_public_names_are_exported():
    for module in (polestar.search, polestar.resolution):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
