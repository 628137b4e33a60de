"""The store's public surface: docs name every table, hooks register once, URLs pick the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from polestar.store import ErasureHooks, PostgresStore, RecordingHook, SqliteStore, open_store
from polestar.store.tables import metadata

DOCS = Path(__file__).parents[3] / "docs" / "store.md"


def test_the_store_docs_describe_every_table():
    text = DOCS.read_text()
    missing = [name for name in metadata.tables if f"`{name}`" not in text]
    assert not missing, f"docs/store.md does not describe {missing}"


def test_an_erasure_hook_name_is_registered_once():
    hooks = ErasureHooks()
    hooks.register(RecordingHook("search"))
    with pytest.raises(ValueError, match="already registered"):
        hooks.register(RecordingHook("search"))
    hooks.unregister("search")
    assert len(hooks) == 0


def test_the_hubs_store_url_picks_the_engine(tmp_path):
    assert isinstance(open_store(f"sqlite:///{tmp_path}/store.sqlite3"), SqliteStore)
    assert isinstance(open_store("postgresql+asyncpg://polestar@127.0.0.1:5432/polestar"), PostgresStore)
    with pytest.raises(ValueError, match="in-memory"):
        open_store("sqlite:///:memory:")
    with pytest.raises(ValueError, match="mysql"):
        open_store("mysql://x@y/z")
