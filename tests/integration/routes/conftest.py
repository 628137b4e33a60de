"""Route tests run on the real SQLite bus in the test's folder and real local HTTP servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _downstream import Downstream

from polestar.bus.config import SqliteBusConfig
from polestar.bus.sqlite import SqliteEngine


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[SqliteEngine]:
    engine = SqliteEngine(SqliteBusConfig(path=Path("bus.sqlite3"), poll_interval=0.02), data_dir=tmp_path)
    await engine.start()
    yield engine
    await engine.close()


@pytest.fixture
async def downstream() -> AsyncIterator[Downstream]:
    system = Downstream()
    await system.up()
    yield system
    await system.down()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "integration"
    for part in ("connectors", "mappings", "routes"):
        (folder / part).mkdir(parents=True)
    return folder
