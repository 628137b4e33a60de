"""Read a YAML file once, keeping where each value stood so errors can point at it.

PyYAML's node API (``yaml.compose``) gives every node its start mark; the
values are then built from the same nodes, so positions and values can never
disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Position = tuple[int, int]
"""A 1-based (line, column) in the file."""

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML mapping with the position of every key and value in it."""

    data: dict[str, Any]
    value_positions: dict[PathKey, Position] = field(default_factory=dict)
    key_positions: dict[PathKey, Position] = field(default_factory=dict)

    def position(self, path: PathKey) -> Position | None:
        """Where the value at ``path`` (or the nearest enclosing one that exists) starts."""
        for end in range(len(path), -1, -1):
            found = self.value_positions.get(path[:end])
            if found is not None:
                return found
        return None


class YamlProblem(Exception):  # noqa: N818 - internal signal, turned into ConfigError by the loader
    """The text is not YAML, or not a mapping at the top: ``problems`` say where and why."""

    def __init__(self, problems: list[tuple[Position | None, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(why for _, why in problems))


def read_yaml_document(path: Path) -> YamlDocument:
    """Parse ``path``; raises ``OSError`` if unreadable and ``YamlProblem`` if it is not a YAML mapping."""
    text = path.read_text(encoding="utf-8")
    return parse_yaml_document(text)


def parse_yaml_document(text: str) -> YamlDocument:
    """Parse YAML ``text`` into a mapping plus positions; see ``read_yaml_document``."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = (mark.line + 1, mark.column + 1) if mark is not None else None
        reason = " ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlProblem([(where, f"not valid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise YamlProblem([(None, f"not valid YAML: {exc}")]) from None
    if root is None:
        return YamlDocument(data={})
    if not isinstance(root, yaml.MappingNode):
        kind = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise YamlProblem([(_start(root), f"the top level must be a mapping of settings, not {kind}")])

    document = YamlDocument(data={})
    duplicates: list[tuple[Position | None, str]] = []
    _index(root, (), document, duplicates)
    if duplicates:
        raise YamlProblem(duplicates)
    data = yaml.SafeLoader("").construct_document(root)  # builds from the nodes already read
    if not isinstance(data, dict):  # pragma: no cover - a MappingNode always builds a dict
        raise YamlProblem([(_start(root), "the top level must be a mapping of settings")])
    return YamlDocument(
        data=data, value_positions=document.value_positions, key_positions=document.key_positions
    )


def _start(node: yaml.Node) -> Position:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _index(
    node: yaml.Node,
    path: PathKey,
    document: YamlDocument,
    duplicates: list[tuple[Position | None, str]],
) -> None:
    document.value_positions[path] = _start(node)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, Position] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)
            if key in seen:
                # PyYAML keeps the last silently; a repeated setting is almost always a mistake.
                dotted = ".".join(str(part) for part in (*path, key))
                duplicates.append(
                    (_start(key_node), f"{dotted} is given twice (first at line {seen[key][0]})")
                )
                continue
            seen[key] = _start(key_node)
            document.key_positions[(*path, key)] = _start(key_node)
            _index(value_node, (*path, key), document, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for number, item in enumerate(node.value):
            _index(item, (*path, number), document, duplicates)
