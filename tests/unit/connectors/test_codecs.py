"""Codecs: a system's bytes to records with places, hostile XML refused, records back to bytes."""

from __future__ import annotations

import csv
import io
import json

import pytest

from polestar.connectors.codecs import (
    DOCTYPE_REFUSED,
    CodecOptions,
    RecordFormat,
    decode,
    format_for_media_type,
)
from polestar.connectors.encoding import encode_record, encode_records
from polestar.errors import InboundRefused

CSV = RecordFormat.CSV
XML = RecordFormat.XML


def test_csv_rows_become_dicts_named_by_file_and_line():
    body = b'\xef\xbb\xbfname,note\r\nSmith,"two\r\nlines"\r\n\r\nJones,ok\r\nshort\r\n'
    decoded = decode(body, CSV, where="custody.csv")
    assert [(r.where, r.record) for r in decoded.records] == [
        ("custody.csv:2", {"name": "Smith", "note": "two\r\nlines"}),
        ("custody.csv:5", {"name": "Jones", "note": "ok"}),
    ]
    [rejected] = decoded.rejected
    assert rejected.where == "custody.csv:6"
    assert rejected.reason == "the row has 1 fields but the header has 2"
    assert rejected.record == "short"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"", "no header"),
        (b"a,,b\n1,2,3\n", "empty column name"),
        (b"a,a\n1,2\n", r"repeats column\(s\) a"),
        (b'a,b\n1,"unterminated\n', "not readable CSV"),
        (b"a,b\n\xff\xfe\n", "not valid utf-8 text at byte 4"),
    ],
)
def test_unreadable_csv_is_refused_whole_saying_why(body, says):
    with pytest.raises(InboundRefused, match=says):
        decode(body, CSV, where="x.csv")


def test_json_object_array_and_lines():
    assert [r.record for r in decode(b'{"a": 1}', RecordFormat.JSON, where="r").records] == [{"a": 1}]
    array = decode(b'[{"a": 1}, {"a": 2}]', RecordFormat.JSON, where="request 7")
    assert [r.where for r in array.records] == ["request 7: record 1", "request 7: record 2"]
    lines = decode(b'{"a": 1}\n\n{"a": \n{"a": 3}\n', RecordFormat.JSONL, where="f.jsonl")
    assert [r.where for r in lines.records] == ["f.jsonl:1", "f.jsonl:4"]
    assert [r.where for r in lines.rejected] == ["f.jsonl:3"]


@pytest.mark.parametrize(("body", "says"), [(b'{"a": ', "not valid JSON"), (b"42", "object or an array")])
def test_bad_json_is_refused_with_its_place(body, says):
    with pytest.raises(InboundRefused, match=says):
        decode(body, RecordFormat.JSON, where="r")


def test_xml_records_use_attribute_and_text_conventions_and_keep_their_lines():
    body = b"""<?xml version="1.0"?>
<extract xmlns="urn:custody">
  <record id="1"><surname>Smith</surname><alias>Smyth</alias><alias>Smithe</alias></record>
  <record id="2"><surname type="birth">Jones</surname><empty/></record>
</extract>"""
    decoded = decode(body, XML, where="e.xml", options=CodecOptions(xml_record_path="record"))
    assert [(r.where, r.record) for r in decoded.records] == [
        ("e.xml:3", {"@id": "1", "surname": "Smith", "alias": ["Smyth", "Smithe"]}),
        ("e.xml:4", {"@id": "2", "surname": {"@type": "birth", "#text": "Jones"}, "empty": None}),
    ]
    whole = decode(body, XML, where="e.xml")
    assert len(whole.records) == 1
    assert len(whole.records[0].record["record"]) == 2


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>"""
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>'
PARAMETER = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p">%p;]><r/>'


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, EXTERNAL_DTD, PARAMETER])
def test_xml_with_a_doctype_or_entities_is_refused(body):
    with pytest.raises(InboundRefused) as refused:
        decode(body, XML, where="evil.xml")
    assert refused.value.reason == DOCTYPE_REFUSED


@pytest.mark.parametrize("body", [b"<r><unclosed></r>", b"not xml", b""])
def test_malformed_xml_is_refused_not_crashed(body):
    with pytest.raises(InboundRefused, match="not well-formed XML"):
        decode(body, XML, where="x.xml")


def test_encoding_round_trips_each_format():
    records = [{"n": "1", "name": "Smith"}, {"n": "2", "name": "O'Brien, Jr"}]
    for fmt in (RecordFormat.JSON, RecordFormat.JSONL, CSV):
        assert [r.record for r in decode(encode_records(records, fmt), fmt, where="x").records] == records
    xml = encode_records(records, XML)
    again = decode(xml, XML, where="x", options=CodecOptions(xml_record_path="record"))
    assert [r.record for r in again.records] == records
    assert json.loads(encode_record(records[0], RecordFormat.JSON)) == records[0]


def test_csv_columns_are_fixed_and_unknown_fields_refused():
    options = CodecOptions(csv_columns=("name", "n", "missing"))
    rows = list(csv.reader(io.StringIO(encode_records([{"n": 1, "name": "A"}], CSV, options).decode())))
    assert rows == [["name", "n", "missing"], ["A", "1", ""]]
    with pytest.raises(ValueError, match="extra"):
        encode_records([{"n": 1, "extra": 2}], CSV, CodecOptions(csv_columns=("n",)))


def test_xml_encoding_writes_attributes_text_and_repeats():
    body = encode_record({"@id": "7", "alias": ["A", "B"], "name": {"@type": "birth", "#text": "Jones"}}, XML)
    assert b'<record id="7"><alias>A</alias><alias>B</alias><name type="birth">Jones</name></record>' in body


@pytest.mark.parametrize(
    ("content_type", "fmt"),
    [
        ("text/csv; charset=utf-8", CSV),
        ("application/vnd.custody+json", RecordFormat.JSON),
        ("application/soap+xml", XML),
        ("application/cloudevents-batch+json", RecordFormat.CLOUDEVENTS),
        ("application/x-ndjson", RecordFormat.JSONL),
        ("application/pdf", None),
    ],
)
def test_content_types_name_formats(content_type, fmt):
    assert format_for_media_type(content_type) is fmt
