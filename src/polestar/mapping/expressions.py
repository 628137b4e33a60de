"""Compiling JMESPath expressions once, at load time, and checking what can be checked there.

Syntax, function names, argument counts, the code list named in ``code()`` /
``decode()`` and the output named in ``id_of()`` are all known before any
record arrives, so a typo fails the load rather than the first record.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any, cast

import jmespath
from jmespath.exceptions import JMESPathError
from jmespath.parser import ParsedResult

from polestar.errors import MappingFailed
from polestar.mapping.functions import OPTIONS, PolicingFunctions


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled JMESPath expression and its source text."""

    text: str
    parsed: ParsedResult

    def evaluate(self, data: Any, field: str | None = None) -> Any:
        """The expression's value over ``data``; any failure is ``MappingFailed`` naming ``field``."""
        try:
            return self.parsed.search(data, options=OPTIONS)
        except MappingFailed as exc:
            raise MappingFailed(exc.reason, field=field or exc.field) from None
        except JMESPathError as exc:
            raise MappingFailed(f"{self.text!r}: {exc}", field=field) from None


@dataclass(frozen=True, slots=True)
class Names:
    """What an expression may name: code lists, and outputs listed before it (None: don't check)."""

    code_lists: Collection[str]
    outputs: Collection[str] | None = None


def compile_expression(text: str, names: Names) -> tuple[Expression | None, list[str]]:
    """``text`` compiled, and every problem found in it (the expression is None if it did not parse)."""
    if not text.strip():
        return None, ["an expression cannot be empty"]
    try:
        parsed = jmespath.compile(text)
    except JMESPathError as exc:
        return None, [f"not a valid JMESPath expression: {_one_line(exc)}"]
    return Expression(text, parsed), list(_check(cast("dict[str, Any]", parsed.parsed), names))


def _one_line(exc: JMESPathError) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    position = getattr(exc, "lex_position", None)
    where = f" (at character {position + 1})" if isinstance(position, int) else ""
    return (lines[0] if lines else type(exc).__name__) + where


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children", []):
        if isinstance(child, dict):
            yield from _nodes(child)


def _check(tree: dict[str, Any], names: Names) -> Iterator[str]:
    table = PolicingFunctions.FUNCTION_TABLE
    for node in _nodes(tree):
        if node.get("type") != "function_expression":
            continue
        name, args = node["value"], node.get("children", [])
        spec = table.get(name)
        if spec is None:
            yield f"unknown function {name}(); see docs/mappings.md for the functions a mapping can use"
            continue
        signature = spec["signature"]
        variadic = bool(signature) and signature[-1].get("variadic", False)
        if (len(args) < len(signature)) if variadic else (len(args) != len(signature)):
            wanted = f"at least {len(signature)}" if variadic else str(len(signature))
            yield f"{name}() takes {wanted} argument(s), not {len(args)}"
            continue
        literal = _literal_text(args[0]) if args else None
        if name in {"code", "decode"} and literal is not None and literal not in names.code_lists:
            known = ", ".join(sorted(names.code_lists)) or "none are loaded"
            yield f"{name}() names code list {literal!r}, which is not defined ({known})"
        earlier = names.outputs
        if name == "id_of" and literal is not None and earlier is not None and literal not in earlier:
            known = ", ".join(earlier) or "none"
            yield f"id_of() names output {literal!r}, which is not an earlier output ({known})"


def _literal_text(node: Any) -> str | None:
    if isinstance(node, dict) and node.get("type") == "literal" and isinstance(node.get("value"), str):
        return str(node["value"])
    return None
