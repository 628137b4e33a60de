"""The store contract suite's stores: every test taking ``store`` runs on SQLite and on PostgreSQL.

``make_store`` opens a store (started) on this test's database, with the
erasure hooks, source priorities and ``on_erasure`` callback a test wants.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from _store_helpers import cluster_store_url
from store_crash_child import crash_config

from polestar.api.audit_component import AuditComponent
from polestar.bus.jetstream import JetStreamEngine
from polestar.errors import BusError
from polestar.store import PostgresStore, SqliteStore, SqlStore

MakeStore = Callable[..., Awaitable[SqlStore]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_store(store_kind: str, request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[MakeStore]:
    opened: list[SqlStore] = []
    target: dict[str, Any] = {}
    if store_kind == "postgres":
        target = {
            "url": request.getfixturevalue("postgres_url"),
            "schema": request.getfixturevalue("postgres_schema"),
        }

    async def make(**options: Any) -> SqlStore:
        if store_kind == "sqlite":
            store: SqlStore = SqliteStore(tmp_path / "store.sqlite3", synchronous="NORMAL", **options)
        else:
            store = PostgresStore(target["url"], schema=target["schema"], pool_size=2, **options)
        await store.start()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
async def store(make_store: MakeStore) -> SqlStore:
    return await make_store()


@pytest.fixture(params=["embedded", pytest.param("cluster", marks=[pytest.mark.postgres, pytest.mark.nats])])
async def crash_site(request, tmp_path, nats_url, unique) -> AsyncIterator[list[str]]:
    """A crash child's arguments: its data folder, and for a cluster its store URL, NATS and prefix."""
    data_dir = str(tmp_path / "data")
    if request.param == "embedded":
        yield [data_dir]
        return
    yield [data_dir, cluster_store_url(request), nats_url, unique]
    cleaner = JetStreamEngine(crash_config(tmp_path, cluster_store_url(request), nats_url, unique).bus)
    with contextlib.suppress(BusError):
        await cleaner.start()
        await cleaner.destroy()
    await cleaner.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_config(request, tmp_path, nats_url, unique):
    """A hub configuration for the audit-intent tests; the cluster's bus is never started by them."""
    if request.param == "sqlite":
        return crash_config(tmp_path, None, None, None)
    return crash_config(tmp_path, cluster_store_url(request), nats_url, unique)


@pytest.fixture
async def audit(hub_config):
    """The hub's audit component on ``hub_config``, started."""
    component = AuditComponent(hub_config)
    await component.start()
    yield component
    await component.close()
