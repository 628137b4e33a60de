"""BusIngest: a system's message decoded, mapped per record, published durably, rejections named."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from _support import CustodyCsvMapping, Mappings, bus_envelopes, custody_csv, custody_spec, open_bus

from polestar.connectors.codecs import CodecOptions, RecordFormat
from polestar.connectors.contract import RawMessage
from polestar.connectors.ingest import BusIngest, UnsupportedContentType, quarantine_subject
from polestar.errors import InboundRefused
from polestar.model.envelope import Envelope


def raw(body: bytes, content_type: str = "text/csv", reference: str = "custody.csv") -> RawMessage:
    return RawMessage(connector="custody-files", body=body, content_type=content_type, reference=reference)


async def test_valid_rows_are_published_and_broken_rows_come_back_named(tmp_path):
    body, broken = custody_csv(50, 3)
    async with open_bus(tmp_path) as bus:
        result = await BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec())(raw(body))
        events = await bus_envelopes(bus)
    assert len(result.event_ids) == 47 == len(events)
    assert [e.id for e in events] == list(result.event_ids)
    assert [r.where for r in result.rejected] == [f"custody.csv:{b.line}" for b in broken]
    assert all(r.record for r in result.rejected)


async def test_ingesting_the_same_file_twice_publishes_nothing_twice(tmp_path):
    body, _ = custody_csv(30, 0)
    async with open_bus(tmp_path) as bus:
        ingest = BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec(), chunk_size=7)
        first = await ingest(raw(body))
        second = await ingest(raw(body))
        assert len(await bus_envelopes(bus)) == 30
    assert not any(ack.duplicate for ack in first.accepted)
    assert all(ack.duplicate for ack in second.accepted)
    assert first.event_ids == second.event_ids


async def test_the_subject_override_is_used(tmp_path):
    body, _ = custody_csv(3, 0)
    async with open_bus(tmp_path) as bus:
        await BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec(subject="custody.inbound"))(
            raw(body)
        )
        assert len(await bus_envelopes(bus, ["custody.inbound"])) == 3


async def test_json_lines_and_xml_records_are_mapped_with_their_locations(tmp_path):
    rows = [
        {
            "custody_record_number": "01CX/000001/26",
            "custody_suite": "Brixton",
            "arrived_at": "2026-01-01T10:00Z",
            "surname": "Smith",
            "date_of_birth": "1990-01-01",
            "pnc_id": "99/1234567Z",
            "home_postcode": "SW1A 1AA",
        },
    ]
    lines = "\n".join(json.dumps(r) for r in rows) + "\n{not json\n"
    async with open_bus(tmp_path) as bus:
        ingest = BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec(fmt=RecordFormat.JSONL))
        result = await ingest(raw(lines.encode(), "application/x-ndjson", "custody.jsonl"))
    [bad_line, bad_pnc] = result.rejected
    assert bad_line.where == "custody.jsonl:2"
    assert "not valid JSON" in bad_line.reason
    assert bad_pnc.where == "custody.jsonl:1"
    assert bad_pnc.field == "pnc_id"

    xml = b"""<?xml version="1.0"?>
<extract>
  <record><custody_record_number>01CX/000002/26</custody_record_number></record>
</extract>"""
    async with open_bus(tmp_path, "bus2.sqlite3") as bus:
        spec = custody_spec(fmt=RecordFormat.XML, codec=CodecOptions(xml_record_path="record"))
        result = await BusIngest(bus, Mappings(CustodyCsvMapping()), spec)(
            raw(xml, "application/xml", "x.xml")
        )
    [rejection] = result.rejected
    assert rejection.where == "x.xml:3"
    assert rejection.field == "arrived_at"


async def test_cloudevents_skip_the_mapping_but_are_validated(tmp_path):
    good = Envelope(source="/sims/cad", type="incident.unit.assigned", subject="INC-1")
    batch = json.dumps([json.loads(good.to_json()), {"source": "/x", "type": "Not A Type"}]).encode()
    async with open_bus(tmp_path) as bus:
        ingest = BusIngest(bus, Mappings(), custody_spec(name="cad-events", fmt=RecordFormat.CLOUDEVENTS))
        result = await ingest(
            RawMessage("cad-events", batch, "application/cloudevents-batch+json", "request 1")
        )
        [stored] = await bus_envelopes(bus)
    assert stored == good
    assert result.event_ids == (good.id,)
    [rejection] = result.rejected
    assert rejection.where == "request 1: record 2"
    assert rejection.field == "type"


async def test_cloudevents_are_refused_by_a_connector_that_does_not_take_them(tmp_path):
    async with open_bus(tmp_path) as bus:
        ingest = BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec())
        with pytest.raises(UnsupportedContentType, match="text/csv"):
            await ingest(raw(b"{}", "application/cloudevents+json"))
        accepting = BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec(accept_cloudevents=True))
        assert accepting.media_format("application/cloudevents+json") is RecordFormat.CLOUDEVENTS


async def test_a_hostile_body_is_refused_whole_and_can_be_quarantined(tmp_path):
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    async with open_bus(tmp_path) as bus:
        ingest = BusIngest(bus, Mappings(CustodyCsvMapping()), custody_spec(fmt=RecordFormat.XML))
        message = raw(bomb, "application/xml", "bomb.xml")
        with pytest.raises(InboundRefused, match="DOCTYPE") as refused:
            await ingest(message)
        await ingest.quarantine(message, str(refused.value))
        await ingest.quarantine(message, str(refused.value))  # a retry is not kept twice
        [kept] = await bus_envelopes(bus, [quarantine_subject("custody-files")])
    assert kept.type == "connector.message.quarantined"
    assert base64.b64decode(kept.data["body_base64"]) == bomb
    assert "DOCTYPE" in kept.data["reasons"][0]


async def test_an_unknown_mapping_name_refuses_the_message(tmp_path):
    async with open_bus(tmp_path) as bus:
        with pytest.raises(InboundRefused, match="custody-csv"):
            await BusIngest(bus, Mappings(), custody_spec())(raw(b"a,b\n1,2\n"))


async def test_a_declarative_mapping_from_the_examples_ingests_a_custody_extract(tmp_path):
    yaml = pytest.importorskip("yaml")
    loader = pytest.importorskip("polestar.mapping.loader")
    folder = Path(__file__).parents[3] / "examples" / "integration" / "mappings"
    mappings = loader.MappingSet.from_directory(folder)
    fixture = yaml.safe_load((folder / "custody.test.yaml").read_text())["tests"][0]
    header, row = fixture["raw"].strip().splitlines()[:2]
    broken = row.replace("23/11/2026 21:40", "31/02/2026 21:40", 1)
    body = f"{header}\n{row}\n{broken.replace('01CX/004512/26', '01CX/004513/26')}\n".encode()
    async with open_bus(tmp_path) as bus:
        ingest = BusIngest(bus, mappings.inbound, custody_spec())
        result = await ingest(raw(body, reference="custody-20261124.csv"))
        events = await bus_envelopes(bus)
        again = await ingest(raw(body, reference="custody-20261124.csv"))
        later = (await bus_envelopes(bus))[len(events) :]
    assert "custody.episode.opened" in {e.type for e in events}
    assert len(events) == len(result.event_ids) == len(fixture["events"])
    # Entities keep their ids (stable_id in the mapping) and the events theirs (derived from the
    # content), so re-ingesting the same file publishes nothing new.
    assert later == []
    assert again.event_ids == result.event_ids
    assert all(ack.duplicate for ack in again.accepted)
    [rejection] = result.rejected
    assert rejection.where == "custody-20261124.csv:3"
    assert rejection.reason
