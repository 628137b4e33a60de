"""``${NAME}`` and ``${NAME:-default}`` in configuration values, filled in from variables.

Integration files (connectors, routes) name things that differ per
installation, such as the URL of the system a connector talks to::

    url: ${POLESTAR_SIM_PNC_URL}
    folder: ${POLESTAR_FORCE_DIR:-var/force}/warehouse

Only string *values* are interpolated, after YAML parsing, so a variable can
never change the file's structure and comments are never read. The rules are
those of POSIX shells and Docker Compose:

==========================  ====================================================
written                     becomes
==========================  ====================================================
``${NAME}``                 the variable's value; unset is an error
``${NAME:-default}``        the value, or ``default`` when unset or empty
``$${``                     a literal ``${`` (the escape)
a lone ``$``                itself
==========================  ====================================================

A value that is exactly one ``${...}`` in a plain (unquoted) scalar stays a
string: pydantic converts ``"8080"`` where a number is wanted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from polestar.config.yaml_document import PathKey, YamlDocument

_TOKEN = re.compile(r"\$\$\{|\$\{(?P<body>[^}]*)(?P<close>\}?)")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_BODY = re.compile(rf"(?P<name>{_NAME})(?::-(?P<default>.*))?", re.DOTALL)


class InterpolationProblem(ValueError):  # noqa: N818 - reads as what the operator sees
    """One ``${...}`` could not be filled in; ``token`` is as written, ``reason`` says why."""

    def __init__(self, token: str, reason: str) -> None:
        self.token = token
        self.reason = reason
        super().__init__(reason)


def interpolate_text(value: str, variables: Mapping[str, str]) -> str:
    """``value`` with every ``${...}`` filled in; raises ``InterpolationProblem`` on the first bad one."""
    if "$" not in value:
        return value

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        body, closed = match.group("body"), match.group("close")
        if not closed:
            raise InterpolationProblem(token, f"`{token}` is not closed with `}}`")
        parts = _BODY.fullmatch(body)
        if parts is None:
            raise InterpolationProblem(
                token,
                f"`{token}` is not a variable reference: write ${{NAME}} or ${{NAME:-default}} "
                "(NAME is letters, digits and _), or $${ for a literal ${",
            )
        name, default = parts.group("name"), parts.group("default")
        found = variables.get(name)
        if default is not None:
            return found or default
        if found is None:
            raise InterpolationProblem(
                token, f"`{token}` is not set (set the variable, or give a default: ${{{name}:-...}})"
            )
        return found

    return _TOKEN.sub(fill, value)


def interpolate_document(
    document: YamlDocument, file: str, variables: Mapping[str, str], *, text: str | None = None
) -> tuple[YamlDocument, list[tuple[str, str]]]:
    """``document`` with its string values interpolated, and every problem located.

    Args:
        document: the parsed file.
        file: its name, for the locations.
        variables: the values of the variables (e.g. ``os.environ``).
        text: the file's text; given, a problem points at the ``${`` itself rather than at the
            start of the value holding it.

    Returns:
        The new document (positions unchanged) and ``("FILE:LINE:COL dotted.path", reason)`` for
        each value that could not be filled in.
    """
    problems: list[tuple[str, str]] = []
    lines = text.splitlines() if text is not None else []

    def walk(value: Any, path: PathKey) -> Any:
        if isinstance(value, str):
            try:
                return interpolate_text(value, variables)
            except InterpolationProblem as exc:
                problems.append((_where(document, file, path, exc.token, lines), exc.reason))
                return value
        if isinstance(value, dict):
            return {key: walk(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*path, index)) for index, item in enumerate(value)]
        return value

    data = walk(document.data, ())
    return (
        YamlDocument(
            data=data, value_positions=document.value_positions, key_positions=document.key_positions
        ),
        problems,
    )


def _where(document: YamlDocument, file: str, path: PathKey, token: str, lines: list[str]) -> str:
    dotted = ""
    for part in path:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    position = document.position(path)
    if position is None:
        return f"{file} {dotted}".rstrip()
    line, column = position
    # The value may be quoted or start earlier on the line: find the token itself when we can.
    if 0 < line <= len(lines):
        found = lines[line - 1].find(token, column - 1)
        if found >= 0:
            column = found + 1
    return f"{file}:{line}:{column} {dotted}".rstrip()
