"""The file-drop connector: a custody system's nightly extract, taken, ingested, archived."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from _support import (
    CustodyCsvMapping,
    FailingBus,
    Mappings,
    bus_envelopes,
    custody_csv,
    custody_spec,
    open_bus,
)

from polestar.connectors.file import FileInbound, FileInboundConfig
from polestar.connectors.ingest import BusIngest
from polestar.errors import BusUnavailable

ROWS, BROKEN = 10_000, 37


def inbound(drop: Path, **changes) -> FileInbound:
    settings = {"instance": "hub-a", "watch": False, "poll_interval": 0.05, **changes}
    config = FileInboundConfig(folder=drop, **settings)
    return FileInbound("custody-files", config)


def reasons(errors: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(errors.rglob("*.reason.json"))]


@pytest.mark.slow
async def test_ten_thousand_custody_rows_with_37_broken_become_9963_events_and_37_reason_files(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    body, broken = custody_csv(ROWS, BROKEN)
    (drop / "custody-20260101.csv").write_bytes(body)
    async with open_bus(tmp_path) as bus:
        connector = inbound(drop)
        await connector.start(BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec()), background=False)
        started = time.perf_counter()
        [outcome] = await connector.process_pending()
        elapsed = time.perf_counter() - started
        await connector.stop()

        events = await bus_envelopes(bus)
        assert len(events) == ROWS - BROKEN == 9_963
        assert len({e.id for e in events}) == 9_963
        assert {e.type for e in events} == {"custody.episode.opened"}

    assert outcome.result is not None
    assert len(outcome.result.event_ids) == 9_963
    written = reasons(drop / "errors")
    assert len(written) == 37
    by_line = {int(r["where"].rsplit(":", 1)[1]): r for r in written}
    assert sorted(by_line) == sorted(b.line for b in broken)
    for row in broken:
        reason = by_line[row.line]
        assert reason["where"] == f"custody-20260101.csv:{row.line}"
        assert reason["reason"]
        assert reason["record"]  # the row as received, to fix and resubmit
        if row.field is not None:
            assert reason["field"] == row.field, (row, reason)
        else:
            assert "fields but the header has 8" in reason["reason"]
    # Nothing lost: every row is either an event or a reason file, and the source is archived whole.
    archived = list((drop / "archive").iterdir())
    assert len(archived) == 1
    assert archived[0].name.endswith("-custody-20260101.csv")
    assert archived[0].read_bytes() == body
    assert not list(drop.glob("*.csv"))
    assert not list((drop / "processing" / "hub-a").iterdir())
    print(f"\n10,000-row custody file ingested in {elapsed:.2f}s ({ROWS / elapsed:,.0f} rows/s)")


@pytest.mark.slow
async def test_a_hub_that_crashes_mid_file_resumes_it_on_start_without_duplicates(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    body, _ = custody_csv(ROWS, BROKEN)
    (drop / "custody.csv").write_bytes(body)
    mappings = Mappings(CustodyCsvMapping())
    async with open_bus(tmp_path) as bus:
        crashing = inbound(drop)
        await crashing.start(
            BusIngest(FailingBus(bus, good_publishes=6), mappings, custody_spec()), background=False
        )  # type: ignore[arg-type]
        with pytest.raises(BusUnavailable):
            await crashing.process_pending()
        await crashing.stop()
        assert (drop / "processing" / "hub-a" / "custody.csv").exists()  # left where the crash found it
        assert len(await bus_envelopes(bus)) == 6 * 500

        restarted = inbound(drop)
        await restarted.start(BusIngest(bus, mappings, custody_spec()), background=False)
        [outcome] = await restarted.process_pending()
        await restarted.stop()

        events = await bus_envelopes(bus)
        assert len(events) == 9_963
        assert len({e.id for e in events}) == 9_963
    assert outcome.result is not None
    assert sum(ack.duplicate for ack in outcome.result.accepted) == 3_000
    assert len(reasons(drop / "errors")) == 37
    assert len(list((drop / "archive").iterdir())) == 1


async def test_the_running_connector_picks_up_a_dropped_file_and_ignores_partial_ones(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    body, _ = custody_csv(20, 0)
    async with open_bus(tmp_path) as bus:
        connector = inbound(drop, watch=True, poll_interval=30)
        await connector.start(BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec()))
        try:
            (drop / "late.csv.part").write_bytes(body)  # still being written: left alone
            await asyncio.sleep(0.3)
            (drop / "late.csv.part").rename(drop / "late.csv")  # the writer's atomic rename
            for _ in range(200):
                if list((drop / "archive").iterdir()):
                    break
                await asyncio.sleep(0.05)
        finally:
            await connector.stop()
        assert len(await bus_envelopes(bus)) == 20
    assert [p.name.endswith("-late.csv") for p in (drop / "archive").iterdir()] == [True]


async def test_a_file_refused_whole_goes_to_errors_with_a_reason_file(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "custody.csv").write_bytes(b"\xff\xfe not text")
    async with open_bus(tmp_path) as bus:
        connector = inbound(drop)
        await connector.start(BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec()), background=False)
        [outcome] = await connector.process_pending()
        await connector.stop()
        assert await bus_envelopes(bus) == []
    assert outcome.refused is not None
    assert "not valid utf-8" in outcome.refused
    [kept] = [p for p in (drop / "errors").iterdir() if p.name.endswith("-custody.csv")]
    assert kept.read_bytes() == b"\xff\xfe not text"
    reason_file = kept.with_name(f"{kept.name}.reason.txt")
    assert "not valid utf-8" in reason_file.read_text()


async def test_a_file_of_the_wrong_format_is_refused_and_kept(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "custody.json").write_text('{"custody_record_number": "01CX/1/26"}')
    async with open_bus(tmp_path) as bus:
        connector = inbound(drop)
        await connector.start(BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec()), background=False)
        [outcome] = await connector.process_pending()
        await connector.stop()
    assert outcome.refused is not None
    assert "application/json" in outcome.refused


class RecordingIngest:
    def __init__(self, inner: BusIngest) -> None:
        self.inner = inner
        self.references: list[str] = []

    async def __call__(self, raw):
        self.references.append(raw.reference)
        return await self.inner(raw)

    async def quarantine(self, raw, reason):
        await self.inner.quarantine(raw, reason)


async def test_two_hubs_never_take_the_same_file(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    for n in range(20):
        (drop / f"custody-{n:02d}.csv").write_bytes(custody_csv(5, 0, seed=n, first=100 * n)[0])
    async with open_bus(tmp_path) as bus:
        hubs = [inbound(drop, instance=name, poll_interval=0.01) for name in ("hub-a", "hub-b")]
        ingests = [
            RecordingIngest(BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec())) for _ in hubs
        ]
        for hub, ingest in zip(hubs, ingests, strict=True):
            await hub.start(ingest)
        for _ in range(400):
            if len(list((drop / "archive").iterdir())) == 20:
                break
            await asyncio.sleep(0.02)
        for hub in hubs:
            await hub.stop()
        taken = ingests[0].references + ingests[1].references
        assert sorted(taken) == sorted(f"custody-{n:02d}.csv" for n in range(20))
        assert len(await bus_envelopes(bus)) == 20 * 5
