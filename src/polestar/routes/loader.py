"""Loading an integration configuration folder, checked as a whole, every problem located.

::

    integration/
      connectors/*.yaml   connectors: [...]   (polestar.connectors.spec)
      mappings/*.yaml     mappings, code lists, fixtures (polestar.mapping)
      routes/*.yaml       routes: [...]       (polestar.routes.config)

Each file is validated on its own, then the files together: names are unique
across files, and every connector, mapping and output a route names exists
(and faces the right way). Every problem is reported at once as
``("FILE:LINE:COL dotted.path", "reason")`` inside one ``ConfigError``.

String values in connector and route files may say ``${NAME}`` or
``${NAME:-default}`` (see ``polestar.config.interpolation``), filled in from
the variables given (the process environment unless told otherwise). Mapping
files are not interpolated: they describe formats, not installations.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from polestar.config.fingerprint import files_fingerprint
from polestar.config.interpolation import interpolate_document
from polestar.config.yaml_document import PathKey, YamlDocument, YamlProblem, parse_yaml_document
from polestar.connectors.registry import ConnectorRegistry
from polestar.connectors.spec import ConnectorSpec, validate_connector_specs
from polestar.errors import ConfigError
from polestar.mapping.loader import MappingSet, load_mappings, location
from polestar.routes.config import CallStep, ConnectorOutput, MapStep, RouteConfig
from polestar.routes.steps.call import check_call_step
from polestar.routes.steps.transform import load_function

CONNECTORS = "connectors"
MAPPINGS = "mappings"
ROUTES = "routes"

_STEP_TAGS = frozenset(
    {"filter", "map", "set", "enrich", "call", "choice", "split", "aggregate", "wiretap", "throttle"}
)
_OUTPUT_TAGS = frozenset({"connector", "subject"})


@dataclass(frozen=True, slots=True)
class Located:
    """A value and the file (and place) it came from."""

    file: str
    document: YamlDocument
    path: PathKey

    def at(self, *more: str | int) -> str:
        """``file:line:col dotted.path`` of this value, or of something inside it."""
        return location(self.file, self.document, (*self.path, *more))


@dataclass(frozen=True)
class IntegrationConfig:
    """Connectors, mappings and routes loaded and checked together."""

    directory: Path
    connectors: dict[str, ConnectorSpec] = field(default_factory=dict)
    mappings: MappingSet = field(default_factory=lambda: MappingSet({}, {}, {}))
    routes: dict[str, RouteConfig] = field(default_factory=dict)
    places: dict[tuple[str, str], Located] = field(default_factory=dict, compare=False)
    """Where each connector and route is written: ``("route", name)`` / ``("connector", name)``."""

    def file_of(self, kind: str, name: str) -> str | None:
        """The file that defines a route or connector."""
        place = self.places.get((kind, name))
        return place.file if place else None

    def routes_using(self, connectors: Iterable[str]) -> set[str]:
        """Names of the routes that deliver to any of ``connectors``."""
        wanted = set(connectors)
        return {name for name, route in self.routes.items() if route.connectors() & wanted}


def yaml_files(directory: Path) -> list[Path]:
    """The ``*.yaml`` and ``*.yml`` files directly in ``directory``, sorted (none if it is missing)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def config_fingerprint(directory: Path) -> str:
    """A digest of every config file's name and content: equal digests, equal configurations."""
    return files_fingerprint(
        (f"{folder}/{path.name}", path)
        for folder in (CONNECTORS, MAPPINGS, ROUTES)
        for path in yaml_files(Path(directory) / folder)
    )


def load_integration_config(
    directory: Path, registry: ConnectorRegistry, *, variables: Mapping[str, str] | None = None
) -> IntegrationConfig:
    """Load and check ``directory``; raises ``ConfigError`` listing every problem with its place.

    ``variables`` fill in ``${NAME}`` in connector and route files (default: ``os.environ``).
    """
    directory = Path(directory)
    variables = os.environ if variables is None else variables
    problems: list[tuple[str, str]] = []
    if not directory.is_dir():
        raise ConfigError(str(directory), [(str(directory), "no such folder")])
    places: dict[tuple[str, str], Located] = {}
    connectors = _connectors(directory / CONNECTORS, registry, problems, places, variables)
    mappings = _mappings(directory / MAPPINGS, problems)
    routes = _routes(directory / ROUTES, problems, places, variables)
    if mappings is not None:
        _check_references(routes, connectors, mappings, places, problems)
    if problems:
        raise ConfigError(str(directory), problems)
    assert mappings is not None
    return IntegrationConfig(directory, connectors, mappings, routes, places)


# -- each folder ---------------------------------------------------------------------------------


def _read(path: Path, problems: list[tuple[str, str]], variables: Mapping[str, str]) -> YamlDocument | None:
    try:
        text = path.read_text(encoding="utf-8")
        document, unset = interpolate_document(parse_yaml_document(text), str(path), variables, text=text)
    except UnicodeDecodeError as exc:
        problems.append((str(path), f"not UTF-8 text ({exc.reason})"))
    except OSError as exc:
        problems.append((str(path), f"cannot read: {exc.strerror or exc}"))
    except YamlProblem as exc:
        problems.extend((f"{path}:{p[0]}:{p[1]}" if p else str(path), why) for p, why in exc.problems)
    else:
        if not unset:
            return document
        problems.extend(unset)
    return None


def _connectors(
    folder: Path,
    registry: ConnectorRegistry,
    problems: list[tuple[str, str]],
    places: dict[tuple[str, str], Located],
    variables: Mapping[str, str],
) -> dict[str, ConnectorSpec]:
    found: dict[str, ConnectorSpec] = {}
    for path in yaml_files(folder):
        document = _read(path, problems, variables)
        if document is None:
            continue
        file = str(path)
        problems.extend(
            (
                _key_at(file, document, (key,)),
                f"unknown setting {key!r}: a connector file holds 'connectors:'",
            )
            for key in sorted(set(document.data) - {CONNECTORS})
        )
        raw = document.data.get(CONNECTORS) or []
        if not isinstance(raw, list):
            problems.append((location(file, document, (CONNECTORS,)), "'connectors' must be a list"))
            continue
        try:
            specs = validate_connector_specs(raw, registry)
        except ValidationError as exc:
            problems.extend(_located(exc.errors(), file, document, (CONNECTORS,)))
            continue
        for index, spec in enumerate(specs):
            place = Located(file, document, (CONNECTORS, index))
            earlier = places.get(("connector", spec.name))
            if earlier is not None:
                problems.append(
                    (place.at("name"), f"connector {spec.name!r} is also defined at {earlier.at()}")
                )
                continue
            places[("connector", spec.name)] = place
            found[spec.name] = spec
    return found


def _mappings(folder: Path, problems: list[tuple[str, str]]) -> MappingSet | None:
    files = yaml_files(folder)
    if not files:
        return MappingSet({}, {}, {})
    try:
        return load_mappings(files)
    except ConfigError as exc:
        problems.extend(exc.problems)
        return None


def _routes(
    folder: Path,
    problems: list[tuple[str, str]],
    places: dict[tuple[str, str], Located],
    variables: Mapping[str, str],
) -> dict[str, RouteConfig]:
    found: dict[str, RouteConfig] = {}
    for path in yaml_files(folder):
        document = _read(path, problems, variables)
        if document is None:
            continue
        file = str(path)
        problems.extend(
            (_key_at(file, document, (key,)), f"unknown setting {key!r}: a route file holds 'routes:'")
            for key in sorted(set(document.data) - {ROUTES})
        )
        raw = document.data.get(ROUTES) or []
        if not isinstance(raw, list):
            problems.append((location(file, document, (ROUTES,)), "'routes' must be a list of routes"))
            continue
        # Route by route, so one broken route does not hide the problems of the others.
        for index, item in enumerate(raw):
            place = Located(file, document, (ROUTES, index))
            try:
                route = RouteConfig.model_validate(item)
            except ValidationError as exc:
                problems.extend(_located(exc.errors(), file, document, (ROUTES, index)))
                continue
            earlier = places.get(("route", route.name))
            if earlier is not None:
                problems.append((place.at("name"), f"route {route.name!r} is also defined at {earlier.at()}"))
                continue
            places[("route", route.name)] = place
            found[route.name] = route
    return found


# -- across folders ------------------------------------------------------------------------------


def _check_references(
    routes: dict[str, RouteConfig],
    connectors: dict[str, ConnectorSpec],
    mappings: MappingSet,
    places: dict[tuple[str, str], Located],
    problems: list[tuple[str, str]],
) -> None:
    for name, route in routes.items():
        place = places[("route", name)]
        for index, step in enumerate(route.steps):
            if isinstance(step, MapStep):
                _check_map_step(step, place, index, mappings, problems)
            if isinstance(step, CallStep):
                for path, reason in check_call_step(step, connectors, mappings.direction):
                    problems.append((place.at("steps", index, *path), reason))
        for index, output in enumerate(route.to):
            if isinstance(output, ConnectorOutput):
                _check_connector_output(output, place, index, connectors, mappings, problems)


def _check_map_step(
    step: MapStep, place: Located, index: int, mappings: MappingSet, problems: list[tuple[str, str]]
) -> None:
    if step.mapping is not None and mappings.direction(step.mapping) != "inbound":
        problems.append(
            (place.at("steps", index, "mapping"), _mapping_problem(step.mapping, "inbound", mappings))
        )
    if step.python is not None:
        try:
            load_function(step.python)
        except ValueError as exc:
            problems.append((place.at("steps", index, "python"), str(exc)))


def _check_connector_output(  # noqa: PLR0917 - private helper called once
    output: ConnectorOutput,
    place: Located,
    index: int,
    connectors: dict[str, ConnectorSpec],
    mappings: MappingSet,
    problems: list[tuple[str, str]],
) -> None:
    spec = connectors.get(output.connector)
    if spec is None:
        known = ", ".join(sorted(connectors)) or "none"
        problems.append(
            (
                place.at("to", index, "connector"),
                f"no connector is named {output.connector!r}; known: {known}",
            )
        )
        return
    if spec.outbound is None:
        problems.append(
            (
                place.at("to", index, "connector"),
                f"connector {output.connector!r} has no outbound side to deliver to",
            )
        )
    mapping = output.mapping or spec.mapping.outbound
    if mapping is not None and mappings.direction(mapping) != "outbound":
        where = place.at("to", index, "mapping") if output.mapping else place.at("to", index, "connector")
        reason = _mapping_problem(mapping, "outbound", mappings)
        problems.append((where, reason if output.mapping else f"the connector's {reason}"))


def _mapping_problem(name: str, direction: str, mappings: MappingSet) -> str:
    actual = mappings.direction(name)
    if actual is None:
        known = ", ".join(n for n in mappings.names() if mappings.direction(n) == direction) or "none"
        return f"no {direction} mapping is named {name!r}; known: {known}"
    return f"mapping {name!r} is {actual}, but an {direction} mapping is needed here"


# -- locating pydantic errors --------------------------------------------------------------------


def _located(
    errors: Sequence[ErrorDetails], file: str, document: YamlDocument, prefix: PathKey
) -> list[tuple[str, str]]:
    found = []
    paths = [(*prefix, *_written_path(error["loc"])) for error in errors]
    for error, path in zip(errors, paths, strict=True):
        # A list whose items failed also reports being too short: the items say it better.
        if error["type"] == "too_short" and any(len(p) > len(path) and p[: len(path)] == path for p in paths):
            continue
        where = (
            _key_at(file, document, path)
            if error["type"] == "extra_forbidden"
            else location(file, document, path)
        )
        found.append((where, _reason(error)))
    return found


def _key_at(file: str, document: YamlDocument, path: PathKey) -> str:
    position = document.key_positions.get(path)
    if position is None:
        return location(file, document, path)
    dotted = location("", YamlDocument(data={}), path).strip()
    return f"{file}:{position[0]}:{position[1]} {dotted}"


def _written_path(loc: Sequence[int | str]) -> PathKey:
    """The path as written: without the union tags pydantic adds (``steps[1].filter.expr``)."""
    path: list[int | str] = []
    parts = list(loc)
    position = 0
    while position < len(parts):
        path.append(parts[position])
        position += 1
        if len(path) >= 2 and isinstance(path[-1], int) and path[-2] in ("steps", "to"):
            tags = _STEP_TAGS if path[-2] == "steps" else _OUTPUT_TAGS
            if position < len(parts) and parts[position] in tags:
                position += 1
    return tuple(path)


def _reason(error: ErrorDetails) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return f"unknown setting {error['loc'][-1]!r}"
    return message
