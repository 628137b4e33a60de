"""Reading text as records, the way connectors' codecs hand them to mappings (used by fixtures).

* JSON: the value; a top-level array is one record per element.
* CSV: one record per row, an object of column to text (empty cells are ``""``).
* XML: ``{root: {...}}`` with ``@attribute`` and ``#text`` keys; an element
  holding only text is that text; a repeated element becomes a list. Parsed
  with defusedxml, so entity expansion and external entities are refused.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal
from xml.etree.ElementTree import Element

from defusedxml import ElementTree

RecordFormat = Literal["json", "csv", "xml"]


def read_records(text: str, record_format: RecordFormat) -> list[Any]:
    """The records in ``text``; ``ValueError`` saying why if it cannot be read."""
    if record_format == "json":
        value = json.loads(text)
        return value if isinstance(value, list) else [value]
    if record_format == "csv":
        return [dict(row) for row in csv.DictReader(io.StringIO(text.strip("\n") + "\n"))]
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError as exc:
        raise ValueError(f"not well-formed XML: {exc}") from None
    return [{_local(root.tag): element_value(root)}]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_value(element: Element) -> Any:
    """One element as a record value, by the ``@attribute`` / ``#text`` convention."""
    value: dict[str, Any] = {f"@{_local(k)}": v for k, v in element.attrib.items()}
    for child in element:
        key = _local(child.tag)
        item = element_value(child)
        if key in value:
            existing = value[key]
            value[key] = [*existing, item] if isinstance(existing, list) else [existing, item]
        else:
            value[key] = item
    text = (element.text or "").strip()
    if not value:
        return text or None
    if text:
        value["#text"] = text
    return value
