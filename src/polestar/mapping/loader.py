"""Loading mapping files into a :class:`MappingSet`, reporting every problem with its place.

Each problem is ``("FILE:LINE:COL dotted.path", "reason")``, e.g.
``("custody.yaml:14:17 mappings[0].outputs[1].fields.date_of_birth", "...")``:
invalid YAML, settings the models refuse, JMESPath that does not parse,
unknown functions, schemas, canonical fields, code lists and outputs,
code-list targets that are not canonical codes, Python that cannot be
imported, and fixtures naming mappings that do not exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from polestar.config.yaml_document import PathKey, YamlDocument, YamlProblem, read_yaml_document
from polestar.errors import ConfigError
from polestar.mapping.callables import compile_python
from polestar.mapping.codelists import CodeList, CodeListSpec, canonical_problems
from polestar.mapping.contract import InboundMapping, OutboundMapping
from polestar.mapping.inbound import compile_inbound
from polestar.mapping.outbound import compile_outbound
from polestar.mapping.spec import (
    MAPPING_TAGS,
    FixtureSpec,
    InboundMappingSpec,
    MappingSpec,
    Name,
    OutboundMappingSpec,
)
from polestar.model.codes import code_lists as canonical_code_lists


@dataclass(frozen=True, slots=True)
class Fixture:
    """A mapping test and where it was written (``file:line``)."""

    spec: FixtureSpec
    where: str


class MappingSet:
    """Every mapping, code list and fixture loaded together, by name."""

    def __init__(
        self,
        inbound: Mapping[str, InboundMapping],
        outbound: Mapping[str, OutboundMapping],
        code_lists: Mapping[str, CodeList],
        fixtures: Iterable[Fixture] = (),
    ) -> None:
        self._inbound = dict(inbound)
        self._outbound = dict(outbound)
        self.code_lists: Mapping[str, CodeList] = dict(code_lists)
        self.fixtures: tuple[Fixture, ...] = tuple(fixtures)

    def inbound(self, name: str) -> InboundMapping:
        """The inbound mapping ``name``; ``KeyError`` naming the known ones if there is none."""
        try:
            return self._inbound[name]
        except KeyError:
            raise KeyError(f"no inbound mapping is named {name!r}; known: {_known(self._inbound)}") from None

    def outbound(self, name: str) -> OutboundMapping:
        """The outbound mapping ``name``; ``KeyError`` naming the known ones if there is none."""
        try:
            return self._outbound[name]
        except KeyError:
            raise KeyError(
                f"no outbound mapping is named {name!r}; known: {_known(self._outbound)}"
            ) from None

    def names(self) -> list[str]:
        """Every mapping's name, sorted."""
        return sorted([*self._inbound, *self._outbound])

    def direction(self, name: str) -> str | None:
        """``inbound``, ``outbound`` or None when no mapping is named ``name``."""
        if name in self._inbound:
            return "inbound"
        return "outbound" if name in self._outbound else None

    @classmethod
    def from_directory(cls, directory: Path) -> MappingSet:
        """Every ``*.yaml`` file directly in ``directory`` (fixture files included); see ``load_mappings``."""
        return load_mappings([directory])


def _known(names: Mapping[str, Any]) -> str:
    return ", ".join(sorted(names)) or "none"


def mapping_files(paths: Iterable[Path]) -> list[Path]:
    """``paths`` with each directory replaced by the ``*.yaml`` files directly in it, sorted."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return found


def location(file: str, document: YamlDocument, path: PathKey) -> str:
    """``file:line:col dotted.path`` for ``path`` in ``document``."""
    dotted = ""
    for part in path:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    position = document.position(path)
    place = f"{file}:{position[0]}:{position[1]}" if position else file
    return f"{place} {dotted}".rstrip()


def load_mappings(paths: Iterable[Path]) -> MappingSet:
    """Load mapping files (directories give their ``*.yaml``); ``ConfigError`` lists every problem."""
    files = mapping_files(paths)
    problems: list[tuple[str, str]] = []
    loaded: Loaded = []
    for path in files:
        name = str(path)
        try:
            document = read_yaml_document(path)
        except OSError as exc:
            problems.append((name, f"cannot read: {exc.strerror or exc}"))
            continue
        except YamlProblem as exc:
            problems.extend((f"{name}:{p[0]}:{p[1]}" if p else name, why) for p, why in exc.problems)
            continue
        loaded.append((name, document, _validate_parts(name, document, problems)))
    mapping_set = _assemble(loaded, problems)
    if problems:
        raise ConfigError(", ".join(str(p) for p in files) or "no mapping files", problems)
    return mapping_set


_PARTS: dict[str, TypeAdapter[Any]] = {
    "code_lists": TypeAdapter(CodeListSpec),
    "mappings": TypeAdapter(MappingSpec),
    "tests": TypeAdapter(FixtureSpec),
}


@dataclass(frozen=True, slots=True)
class _Parts:
    """A file's valid entries, each with its key or index in the file."""

    code_lists: dict[str, CodeListSpec]
    mappings: list[tuple[int, Any]]
    tests: list[tuple[int, FixtureSpec]]


Loaded = list[tuple[str, YamlDocument, _Parts]]
Located = list[tuple[str, str]]


def _validate_parts(name: str, document: YamlDocument, problems: Located) -> _Parts:
    """The file's valid entries; each invalid one is reported, so one mistake hides no other."""
    kept = _Parts({}, [], [])
    for key, value in document.data.items():
        if key not in _PARTS:
            known = ", ".join(_PARTS)
            problems.append((location(name, document, (key,)), f"unknown section {key!r}; known: {known}"))
            continue
        is_mapping = key == "code_lists"
        if not isinstance(value, dict if is_mapping else list):
            kind = "a mapping of name to code list" if is_mapping else "a list"
            problems.append((location(name, document, (key,)), f"{key} must be {kind}"))
            continue
        entries = value.items() if isinstance(value, dict) else enumerate(value)
        for entry_key, entry in entries:
            path: PathKey = (key, entry_key)
            try:
                if is_mapping:
                    _NAME.validate_python(entry_key)
                valid = _PARTS[key].validate_python(entry)
            except ValidationError as exc:
                for error in exc.errors(include_url=False):
                    loc = tuple(p for p in error["loc"] if p not in MAPPING_TAGS)
                    problems.append((location(name, document, (*path, *loc)), error["msg"]))
                continue
            if key == "code_lists":
                kept.code_lists[str(entry_key)] = valid
            elif key == "mappings":
                kept.mappings.append((int(entry_key), valid))
            else:
                kept.tests.append((int(entry_key), valid))
    return kept


_NAME: TypeAdapter[str] = TypeAdapter(Name)


def _assemble(loaded: Loaded, problems: Located) -> MappingSet:
    lists = _code_lists(loaded, problems)
    inbound, outbound = _mappings(loaded, lists, problems)
    names = {*inbound, *outbound}
    fixtures: list[Fixture] = []
    for name, document, file in loaded:
        for number, test in file.tests:
            if test.mapping not in names:
                where = location(name, document, ("tests", number, "mapping"))
                problems.append((where, f"no mapping is named {test.mapping!r}"))
            fixtures.append(Fixture(test, location(name, document, ("tests", number)).split(" ", 1)[0]))
    return MappingSet(inbound, outbound, lists, fixtures)


def _code_lists(loaded: Loaded, problems: Located) -> dict[str, CodeList]:
    lists: dict[str, CodeList] = {}
    first_seen: dict[str, str] = {}
    known_lists = canonical_code_lists()
    for name, document, file in loaded:
        for list_name, spec in file.code_lists.items():
            where = location(name, document, ("code_lists", list_name))
            if list_name in lists:
                problems.append(
                    (where, f"code list {list_name!r} is also defined at {first_seen[list_name]}")
                )
                continue
            first_seen[list_name] = where
            lists[list_name] = CodeList(list_name, spec)
            for key, why in canonical_problems(spec, known_lists):
                path: PathKey = ("code_lists", list_name, *key.split(".", 1))
                problems.append((location(name, document, path), why))
    return lists


def _mappings(
    loaded: Loaded, lists: Mapping[str, CodeList], problems: Located
) -> tuple[dict[str, InboundMapping], dict[str, OutboundMapping]]:
    inbound: dict[str, InboundMapping] = {}
    outbound: dict[str, OutboundMapping] = {}
    defined: dict[str, str] = {}
    for name, document, file in loaded:
        for number, spec in file.mappings:
            at: PathKey = ("mappings", number)
            where = location(name, document, (*at, "name"))
            if spec.name in defined:
                problems.append((where, f"mapping {spec.name!r} is also defined at {defined[spec.name]}"))
                continue
            defined[spec.name] = where
            compiled: Any
            if isinstance(spec, InboundMappingSpec):
                compiled, found = compile_inbound(spec, at, lists)
            elif isinstance(spec, OutboundMappingSpec):
                compiled, found = compile_outbound(spec, at, lists)
            else:
                compiled, found = compile_python(spec, at)
            problems.extend((location(name, document, p), why) for p, why in found)
            if compiled is not None:
                (inbound if spec.direction == "inbound" else outbound)[spec.name] = compiled
    return inbound, outbound
