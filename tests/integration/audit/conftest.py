"""One audit log per test, on SQLite and on the real PostgreSQL (its own schema), plus raw SQL to tamper."""

import pytest
from _audit_helpers import Tamperer

from polestar.audit import AuditKeys, AuditLog, PostgresAuditStore, SqliteAuditStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteAuditStore(tmp_path / "store.sqlite3", synchronous="NORMAL")
        return store, Tamperer(store)
    schema = request.getfixturevalue("postgres_schema")
    store = PostgresAuditStore(request.getfixturevalue("postgres_url"), schema=schema, pool_size=2)
    return store, Tamperer(store, schema)


@pytest.fixture
def keys():
    return AuditKeys.generate()


@pytest.fixture
async def log(backend, keys):
    store, _ = backend
    audit = AuditLog(store, keys, checkpoint_interval=None, max_batch=7)
    await audit.start()
    yield audit
    await audit.close()


@pytest.fixture
def tamper(backend):
    return backend[1]
