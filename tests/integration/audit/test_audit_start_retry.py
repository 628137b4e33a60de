"""An audit log whose database is not there at start is opened later, without restarting the hub."""

from __future__ import annotations

import asyncio

from polestar.api.audit_component import AuditComponent
from polestar.api.health import ComponentStatus
from polestar.config import HubConfig, StoreConfig


async def test_the_audit_log_is_opened_again_once_its_database_can_be_reached(tmp_path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the database's folder should be")
    config = HubConfig(data_dir=tmp_path, store=StoreConfig(url=f"sqlite:///{blocked}/store.sqlite3"))
    audit = AuditComponent(config)
    audit.retry_initial = audit.retry_max = 0.05
    await audit.start()
    try:
        status, reason = audit.check()
        assert status is ComponentStatus.FAILED
        assert reason is not None
        assert audit.log is None
        blocked.unlink()
        blocked.mkdir()
        async with asyncio.timeout(10):
            while audit.check()[0] is not ComponentStatus.OK:  # noqa: ASYNC110 - polls the status /ready reads
                await asyncio.sleep(0.02)
        assert audit.log is not None
        assert audit.check() == (ComponentStatus.OK, None)
    finally:
        await audit.close()
    assert audit.log is None


async def test_closing_stops_the_retries(tmp_path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("never a folder")
    config = HubConfig(data_dir=tmp_path, store=StoreConfig(url=f"sqlite:///{blocked}/store.sqlite3"))
    audit = AuditComponent(config)
    audit.retry_initial = audit.retry_max = 0.01
    await audit.start()
    await asyncio.sleep(0.05)
    await audit.close()
    assert audit.log is None
    assert all(t.get_name() != "polestar-audit-open" for t in asyncio.all_tasks())
