"""File outbound: micro-batched files with manifests, acknowledged only once durable."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json

import pytest

from polestar.connectors.codecs import CodecOptions, RecordFormat
from polestar.connectors.contract import OutboundMessage
from polestar.connectors.encoding import encode_record
from polestar.connectors.file import FileOutbound, FileOutboundConfig
from polestar.errors import DeliveryFailed, DeliveryRefused
from polestar.model.envelope import Envelope


def message(n: int, fmt: RecordFormat = RecordFormat.JSONL) -> OutboundMessage:
    envelope = Envelope(source="/hub", type="custody.episode.opened", subject=f"01CX/{n:06d}/26")
    record = {"custody_record_number": envelope.subject, "n": n}
    return OutboundMessage(envelope=envelope, body=encode_record(record, fmt), content_type="x")


async def test_messages_delivered_together_land_in_batches_with_manifests(tmp_path):
    out = FileOutbound(
        "warehouse", FileOutboundConfig(folder=tmp_path, batch_max_records=40, batch_max_seconds=0.2)
    )
    await out.start()
    messages = [message(n) for n in range(100)]
    receipts = await asyncio.gather(*(out.deliver(m) for m in messages))
    await out.stop()

    files = sorted(p for p in tmp_path.iterdir() if p.suffix == ".jsonl")
    assert [len(p.read_text().splitlines()) for p in files] == [40, 40, 20]
    seen: list[str] = []
    for data in files:
        manifest = json.loads((tmp_path / f"{data.name}.manifest.json").read_text())
        assert manifest["file"] == data.name
        assert manifest["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
        assert manifest["records"] == len(manifest["event_ids"])
        seen.extend(manifest["event_ids"])
    assert seen == [m.envelope.id for m in messages]
    assert {r.reference for r in receipts} == {p.name for p in files}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


async def test_a_lone_message_is_written_after_the_time_limit(tmp_path):
    out = FileOutbound("warehouse", FileOutboundConfig(folder=tmp_path, batch_max_seconds=0.1))
    await out.start()
    receipt = await asyncio.wait_for(out.deliver(message(1)), 5)
    await out.stop()
    assert (tmp_path / str(receipt.reference)).exists()
    assert receipt.response["records"] == 1


async def test_csv_batches_keep_a_fixed_column_order(tmp_path):
    codec = CodecOptions(csv_columns=("n", "custody_record_number"))
    out = FileOutbound(
        "warehouse",
        FileOutboundConfig(folder=tmp_path, format=RecordFormat.CSV, codec=codec, batch_max_records=3),
    )
    await out.start()
    await asyncio.gather(*(out.deliver(message(n, RecordFormat.CSV)) for n in range(3)))
    await out.stop()
    [data] = tmp_path.glob("*.csv")
    rows = list(csv.reader(io.StringIO(data.read_text())))
    assert rows[0] == ["n", "custody_record_number"]
    assert rows[1:] == [[str(n), f"01CX/{n:06d}/26"] for n in range(3)]


async def test_a_body_not_in_the_format_is_refused_for_good(tmp_path):
    out = FileOutbound("warehouse", FileOutboundConfig(folder=tmp_path))
    await out.start()
    bad = OutboundMessage(envelope=message(1).envelope, body=b"{not json", content_type="x")
    with pytest.raises(DeliveryRefused):
        await out.deliver(bad)
    await out.stop()


async def test_an_unwritable_folder_fails_every_message_of_the_batch_for_retry(tmp_path):
    blocker = tmp_path / "out"
    out = FileOutbound("warehouse", FileOutboundConfig(folder=blocker, batch_max_records=2))
    await out.start()
    blocker.rmdir()
    blocker.write_text("a file where the folder was")
    results = await asyncio.gather(*(out.deliver(message(n)) for n in range(2)), return_exceptions=True)
    assert all(isinstance(r, DeliveryFailed) for r in results)
    await out.stop()
