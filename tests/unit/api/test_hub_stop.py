"""Stopping the hub: a component that fails to stop does not keep the others from closing."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

import polestar.api.app as app_module
from polestar.api import create_app
from polestar.api.health import ComponentStatus
from polestar.bus.config import BusConfig, SqliteBusConfig
from polestar.bus.sqlite import SqliteEngine
from polestar.config import HubConfig


class EngineThatFailsToClose(SqliteEngine):
    """A real embedded bus that releases its file, then reports a failure, as a broken link might."""

    async def close(self) -> None:
        await super().close()
        raise RuntimeError("the broker hung up while closing")


def failing_engine(config: BusConfig, data_dir: Path) -> SqliteEngine:
    assert isinstance(config, SqliteBusConfig)
    return EngineThatFailsToClose(config, data_dir=data_dir)


async def test_a_bus_that_fails_to_close_is_logged_and_the_audit_log_still_closes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = HubConfig(data_dir=tmp_path, bus=SqliteBusConfig(poll_interval=0.02))
    app = create_app(config, bus_factory=failing_engine)
    audit = app.state.hub.audit

    with caplog.at_level(logging.ERROR, logger="polestar.api.app"):
        async with app.router.lifespan_context(app):
            assert audit.log is not None

    assert audit.log is None
    assert audit.status is ComponentStatus.STOPPING
    (failure,) = [r for r in caplog.records if r.name == "polestar.api.app"]
    assert failure.getMessage() == "the bus did not stop cleanly; stopping the rest"
    assert "the broker hung up while closing" in (failure.exc_text or "")


class EngineThatHangsOnClose(SqliteEngine):
    """A real embedded bus that releases its file, then never returns from close."""

    async def close(self) -> None:
        await super().close()
        await asyncio.Event().wait()


async def test_a_bus_that_hangs_on_close_is_abandoned_and_the_audit_log_still_closes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "COMPONENT_STOP_SECONDS", 0.2)
    config = HubConfig(data_dir=tmp_path, bus=SqliteBusConfig(poll_interval=0.02))

    def hanging_engine(config: BusConfig, data_dir: Path) -> SqliteEngine:
        assert isinstance(config, SqliteBusConfig)
        return EngineThatHangsOnClose(config, data_dir=data_dir)

    app = create_app(config, bus_factory=hanging_engine)
    audit = app.state.hub.audit

    with caplog.at_level(logging.ERROR, logger="polestar.api.app"):
        async with app.router.lifespan_context(app):
            assert audit.log is not None

    assert audit.log is None
    (hang,) = [r for r in caplog.records if r.name == "polestar.api.app"]
    assert hang.getMessage() == "the bus did not stop within 0.2 s; stopping the rest"
