"""The status desk against a real SQLite bus: order learned from the bus survives a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from polestar.bus.config import SqliteBusConfig
from polestar.bus.sqlite import SqliteEngine
from polestar.devices.config import StatusConfig
from polestar.devices.status import SequenceConflict, StatusDesk, StatusReport


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[SqliteEngine]:
    engine = SqliteEngine(SqliteBusConfig(path=tmp_path / "bus.sqlite3", poll_interval=0.02))
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()


def _report(status: str, sequence: int) -> StatusReport:
    return StatusReport(callSign="cx21", status=status, sequence=sequence)


async def test_a_fresh_desk_learns_the_last_sequence_from_the_bus(bus: SqliteEngine) -> None:
    before = StatusDesk(StatusConfig(), lambda: bus)
    await before.report("INC-1", _report("ENROUTE", 1), device="IVMA-CX21", officer="PC1")
    await before.report("INC-1", _report("ONSCENE", 2), device="IVMA-CX21", officer="PC1")

    after = StatusDesk(StatusConfig(), lambda: bus)  # the hub restarted
    with pytest.raises(SequenceConflict, match="expected sequence 3, got 2") as caught:
        await after.report("INC-1", _report("CLEARED", 2), device="IVMA-CX21", officer="PC1")
    assert (caught.value.expected, caught.value.got) == (3, 2)
    cleared = await after.report("INC-1", _report("CLEARED", 3), device="IVMA-CX21", officer="PC1")
    assert (cleared.status, cleared.duplicate) == ("cleared", False)

    published = [m async for m in bus.read(subjects=("incident.unit.status.reported.INC-1",))]
    assert [m.envelope.data["sequence"] for m in published if m.envelope.data] == [1, 2, 3]
    assert {m.envelope.partitionkey for m in published} == {"INC-1"}
    assert {m.envelope.purpose for m in published} == {"dispatch"}


async def test_a_first_update_sent_again_after_a_restart_is_not_published_twice(bus: SqliteEngine) -> None:
    first = await StatusDesk(StatusConfig(), lambda: bus).report(
        "INC-2", _report("ENROUTE", 1), device=None, officer=None
    )
    again = await StatusDesk(StatusConfig(), lambda: bus).report(
        "INC-2", _report("ENROUTE", 1), device=None, officer=None
    )
    assert (first.duplicate, again.duplicate) == (False, True)
    published = [m async for m in bus.read(subjects=("incident.unit.status.reported.INC-2",))]
    assert len(published) == 1
