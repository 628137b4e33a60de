"""Codecs shared by connector kinds: a system's bytes to records, and records back to bytes.

A *record* is a plain JSON-like value (see ``polestar.mapping.contract``).
Decoding never crashes on bad input: a body that cannot be read at all raises
``InboundRefused`` (with where it went wrong), and one bad record among good
ones becomes a ``Rejection`` naming its place (``custody.csv:17``) while the
rest are decoded.

======================  ==============================================================
format                  records
======================  ==============================================================
``json``                an object is one record; an array is one record per element
``jsonl``               one record per non-blank line
``csv``                 one dict per row, keyed by the header row; values are text
``xml``                 one dict per record element (``@attr``, ``#text``, child names)
``cloudevents``         JSON as above; each record is a CloudEvent (validated by ingest)
======================  ==============================================================

XML is parsed with lxml with entity resolution, network access and DTD loading
off, and any document carrying a DOCTYPE (and so any entity declaration) is
refused outright: a system has no need of one to send records, and an
attacker has every need of one for XXE and entity expansion.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field

from polestar.connectors.contract import Rejection
from polestar.errors import InboundRefused

DOCTYPE_REFUSED = "XML with a DOCTYPE/entity declaration is refused"


class RecordFormat(StrEnum):
    """The formats a connector reads and writes."""

    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    XML = "xml"
    CLOUDEVENTS = "cloudevents"


CONTENT_TYPES: dict[RecordFormat, str] = {
    RecordFormat.JSON: "application/json",
    RecordFormat.JSONL: "application/x-ndjson",
    RecordFormat.CSV: "text/csv",
    RecordFormat.XML: "application/xml",
    RecordFormat.CLOUDEVENTS: "application/cloudevents+json",
}
"""The content type one record encoded by ``encode_record`` is sent with."""

CLOUDEVENT_TYPE = "application/cloudevents+json"
CLOUDEVENTS_BATCH_TYPE = "application/cloudevents-batch+json"

MEDIA_FORMATS: dict[str, RecordFormat] = {
    "application/json": RecordFormat.JSON,
    "text/json": RecordFormat.JSON,
    "application/x-ndjson": RecordFormat.JSONL,
    "application/jsonl": RecordFormat.JSONL,
    "application/x-jsonlines": RecordFormat.JSONL,
    "application/jsonlines": RecordFormat.JSONL,
    "text/csv": RecordFormat.CSV,
    "application/csv": RecordFormat.CSV,
    "application/xml": RecordFormat.XML,
    "text/xml": RecordFormat.XML,
    CLOUDEVENT_TYPE: RecordFormat.CLOUDEVENTS,
    CLOUDEVENTS_BATCH_TYPE: RecordFormat.CLOUDEVENTS,
}

SUFFIX_CONTENT_TYPES: dict[str, str] = {
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".csv": "text/csv",
    ".xml": "application/xml",
}
"""Content types of dropped files, by file name suffix."""


def media_types_for(fmt: RecordFormat) -> set[str]:
    """The content types read as ``fmt``."""
    return {name for name, named in MEDIA_FORMATS.items() if named is fmt}


def media_type(content_type: str) -> str:
    """The bare, lower-case media type of a ``Content-Type`` value (no parameters)."""
    return content_type.split(";", 1)[0].strip().lower()


def format_for_media_type(content_type: str) -> RecordFormat | None:
    """The format a content type names, or None when it names none Polestar reads."""
    bare = media_type(content_type)
    known = MEDIA_FORMATS.get(bare)
    if known is not None:
        return known
    if bare.endswith("+json"):
        return RecordFormat.JSON
    if bare.endswith("+xml"):
        return RecordFormat.XML
    return None


class CodecOptions(BaseModel):
    """How a format is read and written beyond its defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoding: str = Field(default="utf-8", description="Text encoding of CSV, JSON Lines and JSON bodies.")
    csv_delimiter: str = Field(default=",", min_length=1, max_length=1, description="CSV field separator.")
    csv_columns: tuple[str, ...] | None = Field(
        default=None,
        description="Column order when writing CSV; default: the keys of the records, first seen first.",
        examples=[["custody_record_number", "arrived_at", "surname"]],
    )
    xml_record_path: str | None = Field(
        default=None,
        description=(
            "Slash-separated element names, from below the root, of the record elements "
            "('*' matches any); default: the root element is the one record."
        ),
        examples=["record", "batch/custodyRecord"],
    )
    xml_root: str = Field(default="records", description="Root element name when writing XML.")
    xml_record: str = Field(default="record", description="Record element name when writing XML.")


DEFAULT_OPTIONS = CodecOptions()


@dataclass(frozen=True, slots=True)
class DecodedRecord:
    """One record read from a body, with its place and its text as received."""

    where: str
    record: Any
    text: str


@dataclass(slots=True)
class Decoded:
    """The records decoded from a body, and those that could not be read."""

    records: list[DecodedRecord] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


# -- decoding -----------------------------------------------------------------------------------


def decode(body: bytes, fmt: RecordFormat, *, where: str, options: CodecOptions = DEFAULT_OPTIONS) -> Decoded:
    """Decode ``body`` in ``fmt``; ``where`` names the body (a file name, a request)."""
    if fmt is RecordFormat.CSV:
        return _decode_csv(_text(body, where, options), where, options)
    if fmt is RecordFormat.JSONL:
        return _decode_jsonl(_text(body, where, options), where)
    if fmt is RecordFormat.XML:
        return _decode_xml(body, where, options)
    return _decode_json(_text(body, where, options), where)


def _text(body: bytes, where: str, options: CodecOptions) -> str:
    encoding = "utf-8-sig" if options.encoding.lower().replace("_", "-") == "utf-8" else options.encoding
    try:
        return body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InboundRefused(f"not valid {options.encoding} text at byte {exc.start}", where=where) from None
    except LookupError:
        raise InboundRefused(f"unknown text encoding {options.encoding!r}", where=where) from None


def _decode_json(text: str, where: str) -> Decoded:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InboundRefused(
            f"not valid JSON: {exc.msg}", where=f"{where}:{exc.lineno}:{exc.colno}"
        ) from None
    except ValueError as exc:  # e.g. an integer too long to convert
        raise InboundRefused(f"not valid JSON: {exc}", where=where) from None
    if isinstance(value, dict):
        return Decoded(records=[DecodedRecord(where, value, text)])
    if isinstance(value, list):
        return Decoded(
            records=[
                DecodedRecord(f"{where}: record {n}", item, json.dumps(item, ensure_ascii=False))
                for n, item in enumerate(value, start=1)
            ]
        )
    raise InboundRefused("a JSON body must be an object or an array of records", where=where)


def _decode_jsonl(text: str, where: str) -> Decoded:
    decoded = Decoded()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        place = f"{where}:{number}"
        try:
            decoded.records.append(DecodedRecord(place, json.loads(line), line))
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            decoded.rejected.append(Rejection(where=place, reason=f"not valid JSON: {reason}", record=line))
    return decoded


def _decode_csv(text: str, where: str, options: CodecOptions) -> Decoded:
    decoded = Decoded()
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, delimiter=options.csv_delimiter, strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            end = reader.line_num
            place, raw = f"{where}:{start}", "".join(lines[start - 1 : end]).rstrip("\r\n")
            start = end + 1
            if not row or not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [name.strip() for name in row]
                _check_header(header, place)
                continue
            if len(row) != len(header):
                decoded.rejected.append(
                    Rejection(
                        where=place,
                        reason=f"the row has {len(row)} fields but the header has {len(header)}",
                        record=raw,
                    )
                )
                continue
            decoded.records.append(DecodedRecord(place, dict(zip(header, row, strict=True)), raw))
    except csv.Error as exc:
        raise InboundRefused(f"not readable CSV: {exc}", where=f"{where}:{start}") from None
    if header is None:
        raise InboundRefused("the CSV has no header row", where=where)
    return decoded


def _check_header(header: list[str], place: str) -> None:
    if any(not name for name in header):
        raise InboundRefused("the CSV header has an empty column name", where=place)
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise InboundRefused(f"the CSV header repeats column(s) {', '.join(repeated)}", where=place)


def _xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _decode_xml(body: bytes, where: str, options: CodecOptions) -> Decoded:
    try:
        root = etree.fromstring(body, parser=_xml_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        if "DOCTYPE" in str(exc) or "Entity" in str(exc):
            raise InboundRefused(DOCTYPE_REFUSED, where=where) from None
        raise InboundRefused(
            f"not well-formed XML: {exc.msg}", where=f"{where}:{line}" if line else where
        ) from None
    tree = root.getroottree()
    docinfo: Any = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise InboundRefused(DOCTYPE_REFUSED, where=where)
    elements = [root] if options.xml_record_path is None else list(_find(root, options.xml_record_path))
    return Decoded(
        records=[
            DecodedRecord(
                f"{where}:{element.sourceline}" if element.sourceline else where,
                element_to_record(element),
                etree.tostring(element, encoding="unicode"),
            )
            for element in elements
        ]
    )


def _find(root: etree._Element, path: str) -> Iterator[etree._Element]:
    level = [root]
    for step in (part for part in path.strip("/").split("/") if part):
        level = [
            child
            for parent in level
            for child in parent
            if isinstance(child.tag, str) and (step == "*" or etree.QName(child).localname == step)
        ]
    yield from level


def element_to_record(element: etree._Element) -> Any:
    """An element as a record: attributes as ``@name``, text as ``#text``, children by local name.

    An element with neither attributes nor children is just its text (or None
    when empty); a child name that repeats becomes a list. Namespaces are
    dropped: mappings name fields by local name.
    """
    children = [child for child in element if isinstance(child.tag, str)]
    text = (element.text or "").strip()
    if not element.attrib and not children:
        return text or None
    record: dict[str, Any] = {f"@{etree.QName(k).localname}": v for k, v in element.attrib.items()}
    for child in children:
        name = etree.QName(child).localname
        value = element_to_record(child)
        if name in record:
            existing = record[name]
            record[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            record[name] = value
    if text:
        record["#text"] = text
    return record
