"""Describe a JSON Schema fragment in words for a Markdown table: its type and its constraints."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Linker = Callable[[str], str]
"""Turns a ``$defs`` name into Markdown: a link to its section or page."""

MAX_EXAMPLES = 3

_FORMAT_WORDS = {
    "date-time": "date-time (RFC 3339, with offset)",
    "date": "date (YYYY-MM-DD)",
    "time": "time",
    "uri": "URI",
    "email": "email address",
    "uuid": "UUID",
}


def def_name(ref: str) -> str:
    """``Person`` from ``#/$defs/Person``."""
    return ref.rsplit("/", 1)[-1]


def cell(text: str) -> str:
    """``text`` made safe for one Markdown table cell."""
    paragraphs = [" ".join(part.split()) for part in text.strip().split("\n\n")]
    return "<br><br>".join(p for p in paragraphs if p).replace("|", "\\|")


def code(value: Any) -> str:
    """A JSON value as inline code."""
    text = (
        value
        if isinstance(value, str) and not _needs_quotes(value)
        else json.dumps(value, ensure_ascii=False)
    )
    return f"`{text}`"


def _needs_quotes(value: str) -> bool:
    return value == "" or value != value.strip()


def type_of(schema: dict[str, Any], link: Linker) -> str:  # noqa: PLR0911 - one return per JSON Schema form
    """The type of a schema fragment in words, e.g. ``array of [Name](#name)`` or ``string (date)``."""
    if "$ref" in schema:
        return link(def_name(schema["$ref"]))
    if "const" in schema:
        return f"constant {code(schema['const'])}"
    if "enum" in schema:
        return "one of " + ", ".join(code(v) for v in schema["enum"])
    for keyword in ("anyOf", "oneOf", "allOf"):
        if keyword in schema:
            branches = [b for b in schema[keyword] if b.get("type") != "null"]
            words = " or ".join(dict.fromkeys(type_of(b, link) for b in branches)) or "null"
            nullable = len(branches) < len(schema[keyword])
            return f"{words} or null" if nullable else words
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if kind == "array":
        items = schema.get("items") or (schema.get("prefixItems") or [{}])[0]
        return f"array of {type_of(items, link)}" if items else "array"
    if kind == "object":
        values = schema.get("additionalProperties")
        return (
            f"map of string to {type_of(values, link)}" if isinstance(values, dict) and values else "object"
        )
    if kind == "string" and "format" in schema:
        return f"string, {_FORMAT_WORDS.get(schema['format'], schema['format'])}"
    return str(kind) if kind else "any JSON value"


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            return [b for b in schema[keyword] if b.get("type") != "null"]
    return [schema]


def constraints_of(schema: dict[str, Any]) -> list[str]:
    """The constraints a value must meet, in words: lengths, ranges, patterns, item counts."""
    found: list[str] = []
    for branch in _branches(schema):
        found.extend(_constraints(branch))
        if branch.get("type") == "array" and isinstance(branch.get("items"), dict):
            found.extend(f"each item: {c}" for c in _constraints(branch["items"]))
    return list(dict.fromkeys(found))


def _constraints(schema: dict[str, Any]) -> list[str]:
    found = []
    low, high = schema.get("minLength"), schema.get("maxLength")
    if low is not None or high is not None:
        found.append(_range_words(low, high, "characters"))
    low, high = schema.get("minItems"), schema.get("maxItems")
    if low is not None or high is not None:
        found.append(_range_words(low, high, "items"))
    if schema.get("uniqueItems"):
        found.append("no repeated items")
    for keyword, words in (
        ("minimum", "at least"),
        ("exclusiveMinimum", "more than"),
        ("maximum", "at most"),
        ("exclusiveMaximum", "less than"),
        ("multipleOf", "a multiple of"),
    ):
        if keyword in schema:
            found.append(f"{words} {schema[keyword]}")
    if "pattern" in schema:
        found.append(f"pattern `{schema['pattern']}`")
    return found


def _range_words(low: int | None, high: int | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"{low} to {high} {unit}" if low != high else f"exactly {low} {unit}"
    if low is not None:
        return f"at least {low} {unit}"
    return f"at most {high} {unit}"


def examples_of(schema: dict[str, Any]) -> list[str]:
    """Up to ``MAX_EXAMPLES`` examples, as inline code."""
    return [code(e) for e in schema.get("examples", [])[:MAX_EXAMPLES]]


def describe(schema: dict[str, Any]) -> str:
    """A field's description cell: its description, then constraints, default and examples."""
    parts = [cell(schema["description"])] if schema.get("description") else []
    constraints = constraints_of(schema)
    if constraints:
        parts.append("Constraints: " + cell("; ".join(constraints)) + ".")
    if "default" in schema and schema["default"] not in (None, [], {}):
        parts.append(f"Default: {cell(code(schema['default']))}.")
    examples = examples_of(schema)
    if examples:
        parts.append("Examples: " + cell(", ".join(examples)) + ".")
    return "<br>".join(parts)
