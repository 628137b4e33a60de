"""A real store with its search index: every test taking ``indexed`` runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from polestar.search import SearchIndex
from polestar.store import ErasureHooks, PostgresStore, SqliteStore, SqlStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def indexed(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[tuple[SqlStore, SearchIndex]]:
    hooks = ErasureHooks()
    if request.param == "sqlite":
        store: SqlStore = SqliteStore(tmp_path / "store.sqlite3", synchronous="NORMAL", hooks=hooks)
    else:
        store = PostgresStore(
            request.getfixturevalue("postgres_url"),
            schema=request.getfixturevalue("postgres_schema"),
            pool_size=2,
            hooks=hooks,
        )
    await store.start()
    index = SearchIndex(store.engine)
    hooks.register(index)
    await index.start()
    yield store, index
    await store.close()
