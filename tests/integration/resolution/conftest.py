"""Resolution over a real store and index: each test taking ``resolver`` runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from polestar.resolution import Resolver
from polestar.search import SearchIndex
from polestar.store import SqlStore


@pytest.fixture
async def resolver(indexed: tuple[SqlStore, SearchIndex]) -> Resolver:
    store, index = indexed
    made = Resolver(store, index)
    store.hooks.register(made)
    await made.start()
    return made
