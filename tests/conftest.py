"""Shared test set-up: real services, each test with names of its own.

A test that needs a service carries its marker (``@pytest.mark.nats``...).
If the service is unreachable the test is skipped with a message naming it,
unless ``POLESTAR_REQUIRE_SERVICES=1`` (as in CI), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from functools import cache
from urllib.parse import urlparse

import psycopg
import pytest
from hypothesis import settings

# No per-example deadline: it is a timing assertion, and on a loaded CI machine a slow
# example is not a bug (timings belong in bench/). Health checks stay on.
settings.register_profile("polestar", deadline=None)
settings.load_profile("polestar")

SERVICE_URLS = {
    "postgres": os.environ.get("POLESTAR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    "nats": os.environ.get("POLESTAR_TEST_NATS_URL", "nats://127.0.0.1:4222"),
    "rabbitmq": os.environ.get("POLESTAR_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    "mqtt": os.environ.get("POLESTAR_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
    "redis": os.environ.get("POLESTAR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
}


def services_required() -> bool:
    """True in CI: an unreachable service fails its tests instead of skipping them."""
    return os.environ.get("POLESTAR_REQUIRE_SERVICES", "") in {"1", "true", "yes"}


@cache
def _reachable(url: str) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port
    assert port is not None, url
    try:
        with socket.create_connection((host, port), timeout=2):
            return None
    except OSError as exc:
        return f"{host}:{port} ({exc})"


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers():
        url = SERVICE_URLS.get(marker.name)
        if url is None:
            continue
        problem = _reachable(url)
        if problem is None:
            continue
        message = f"{marker.name} service unreachable at {problem}"
        if services_required():
            pytest.fail(f"{message}; POLESTAR_REQUIRE_SERVICES=1 makes this a failure")
        pytest.skip(message)


@pytest.fixture
def unique() -> str:
    """A short name unique to this test, for schemas, streams and subjects."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def nats_url() -> str:
    """URL of the NATS JetStream server used by tests marked ``nats``."""
    return SERVICE_URLS["nats"]


@pytest.fixture
def postgres_url() -> str:
    """URL of the PostgreSQL server used by tests marked ``postgres``."""
    return SERVICE_URLS["postgres"]


_EXTENSIONS_READY: set[str] = set()


def _extensions(postgres_url: str) -> None:
    """Install ``pg_trgm`` in ``public`` once, as a force's DBA would before the hub first starts.

    Otherwise the first tests to create vehicle keys at the same moment race to
    install it (one is refused), and the loser's table goes without its trigram index.
    """
    if postgres_url in _EXTENSIONS_READY:
        return
    raced = psycopg.errors.UniqueViolation  # another worker installed it at the same moment
    with psycopg.connect(postgres_url, autocommit=True) as conn, contextlib.suppress(raced):
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    _EXTENSIONS_READY.add(postgres_url)


@pytest.fixture
def postgres_schema(postgres_url: str, unique: str) -> Iterator[str]:
    """A PostgreSQL schema of this test's own, dropped afterwards."""

    _extensions(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{unique}"')
    try:
        yield unique
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{unique}" CASCADE')
