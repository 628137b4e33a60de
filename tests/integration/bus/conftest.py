"""The contract suite's engines: every test here taking ``engine`` runs on SQLite and on JetStream.

``make_engine`` opens more engines on the same storage (the same file, the same
streams) for tests that restart the bus or change its retention; the fixture
closes them all, and deletes the JetStream streams, afterwards.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from polestar.bus.config import JetStreamBusConfig, SqliteBusConfig
from polestar.bus.contract import BusEngine, RetentionPolicy
from polestar.bus.sqlite import SqliteEngine
from polestar.errors import BusError

MakeEngine = Callable[..., Awaitable[BusEngine]]

DEFAULT_RETENTION = RetentionPolicy(dedupe_window=60)


def _jetstream_module() -> Any:
    try:
        return importlib.import_module("polestar.bus.jetstream")
    except ImportError as exc:
        pytest.skip(f"polestar.bus.jetstream is not available yet ({exc}); its engineer is writing it")


@pytest.fixture(params=["sqlite", pytest.param("jetstream", marks=pytest.mark.nats)])
def engine_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_engine(
    engine_kind: str, tmp_path: Path, nats_url: str, unique: str
) -> AsyncIterator[MakeEngine]:
    opened: list[BusEngine] = []
    jetstream_config: JetStreamBusConfig | None = None

    async def make(retention: RetentionPolicy = DEFAULT_RETENTION, start: bool = True) -> BusEngine:
        nonlocal jetstream_config
        engine: BusEngine
        if engine_kind == "sqlite":
            config = SqliteBusConfig(path=Path("bus.sqlite3"), poll_interval=0.02, retention=retention)
            engine = SqliteEngine(config, data_dir=tmp_path)
        else:
            module = _jetstream_module()
            jetstream_config = JetStreamBusConfig(
                servers=(nats_url,),
                stream_prefix=unique.upper(),
                subject_prefix=unique.lower(),
                retention=retention,
            )
            engine = module.JetStreamEngine(jetstream_config)
        opened.append(engine)
        if start:
            await engine.start()
        return engine

    yield make

    for engine in opened:
        with contextlib.suppress(BusError):
            await engine.close()
    if jetstream_config is not None:
        cleaner = _jetstream_module().JetStreamEngine(jetstream_config)
        await cleaner.start()
        try:
            await cleaner.destroy()
        finally:
            await cleaner.close()


@pytest.fixture
async def engine(make_engine: MakeEngine) -> BusEngine:
    return await make_engine()
