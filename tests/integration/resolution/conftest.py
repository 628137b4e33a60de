"""Resolution over a real store and index: each test taking ``resolver`` runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from polestar.resolution import Resolver
from polestar.search import SearchIndex
from polestar.store import ErasureHooks, PostgresStore, SqliteStore, SqlStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def resolver(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Resolver]:
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
    made = Resolver(store, index)
    hooks.register(index)
    hooks.register(made)
    await index.start()
    await made.start()
    yield made
    await store.close()
