"""Records back to bytes: the encoding half of the connector codecs (``polestar.connectors.codecs``).

One record per body (``encode_record``) for a system that takes a message per
record, or several as one body (``encode_records``): a JSON array, JSON lines,
a CSV with a header row, or one XML root holding a record element each.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from lxml import etree

from polestar.connectors.codecs import DEFAULT_OPTIONS, CodecOptions, RecordFormat


def encode_records(
    records: Sequence[Any], fmt: RecordFormat, options: CodecOptions = DEFAULT_OPTIONS
) -> bytes:
    """Encode several records as one body: a JSON array, lines, a CSV with a header, one XML root."""
    if fmt is RecordFormat.CSV:
        return _encode_csv(records, options)
    if fmt in (RecordFormat.JSONL,):
        return b"".join(_json(record) + b"\n" for record in records)
    if fmt is RecordFormat.XML:
        root = etree.Element(options.xml_root)
        for record in records:
            _fill(etree.SubElement(root, options.xml_record), record)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return b"[" + b",".join(_json(record) for record in records) + b"]"


def encode_record(record: Any, fmt: RecordFormat, options: CodecOptions = DEFAULT_OPTIONS) -> bytes:
    """Encode one record as a body of its own (a JSON object, one XML document, a one-row CSV).

    XML: a record whose only key names an element holding an object (``{"FootwearSubject":
    {...}}``, as an outbound XML mapping writes it) is that document; any other record is
    written inside ``options.xml_record``.
    """
    if fmt in (RecordFormat.JSON, RecordFormat.CLOUDEVENTS):
        return _json(record)
    if fmt is RecordFormat.XML:
        root = _document_root(record)
        if root is not None:
            # An outbound XML mapping names its document's root (``FootwearSubject: {...}``):
            # the system expects that element, not one wrapped in ``<record>``.
            name, content = root
            element = etree.Element(name)
            _fill(element, content)
        else:
            element = etree.Element(options.xml_record)
            _fill(element, record)
        return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))
    return encode_records([record], fmt, options)


def _document_root(record: Any) -> tuple[str, Any] | None:
    """``(name, content)`` when ``record`` is one element named by its only key, else None."""
    if not isinstance(record, dict) or len(record) != 1:
        return None
    ((name, content),) = record.items()
    if not isinstance(name, str) or name.startswith(("@", "#")) or not isinstance(content, dict):
        return None
    return name, content


def _json(record: Any) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _encode_csv(records: Sequence[Any], options: CodecOptions) -> bytes:
    columns = list(options.csv_columns or ())
    if not columns:
        for record in records:
            columns.extend(key for key in _as_dict(record) if key not in columns)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=options.csv_delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        row = _as_dict(record)
        unknown = sorted(set(row) - set(columns))
        if unknown:
            raise ValueError(f"record has field(s) {', '.join(unknown)} that are not CSV columns")
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue().encode(options.encoding)


def _as_dict(record: Any) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise ValueError(  # noqa: TRY004 - callers turn ValueError into a refusal of the batch
            f"a CSV row must be an object of fields, not {type(record).__name__}"
        )
    return record


def _fill(element: etree._Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "#text":
                element.text = _cell(item)
            elif key.startswith("@"):
                element.set(key[1:], _cell(item))
            else:
                for one in item if isinstance(item, list) else [item]:
                    _fill(etree.SubElement(element, key), one)
    elif value is not None:
        element.text = _cell(value)
