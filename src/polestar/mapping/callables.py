"""Mappings written in Python, named in YAML as ``python: "package.module:name"``.

The name may be an object with ``to_canonical`` / ``from_canonical`` (a class
is instantiated without arguments), or a plain function: inbound
``record -> dict | list[dict]`` of canonical data of the declared ``schema``,
outbound ``envelope as JSON -> record``. Either way the result is validated as
a declarative mapping's is, and data errors the code raises (``ValueError``,
``KeyError``...) become ``MappingFailed`` rather than crashing the route.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polestar.config.yaml_document import PathKey
from polestar.errors import MappingFailed
from polestar.mapping.contract import InboundMapping, MappingContext, OutboundMapping
from polestar.mapping.events import build_event
from polestar.mapping.outbound import canonical_view
from polestar.mapping.pycall import import_object
from polestar.mapping.spec import PythonMappingSpec
from polestar.mapping.templates import Problems
from polestar.model.catalogue import EVENT_TYPES
from polestar.model.common import Entity
from polestar.model.envelope import Envelope
from polestar.model.registry import CANONICAL_MODELS

_DATA_ERRORS = (ValueError, TypeError, LookupError, ArithmeticError)


def _guarded(reference: str, where: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except MappingFailed as exc:
        raise MappingFailed(exc.reason, field=exc.field, where=exc.where or where) from None
    except _DATA_ERRORS as exc:
        raise MappingFailed(f"{reference} raised {type(exc).__name__}: {exc}", where=where) from None


class PythonInboundMapping:
    """An inbound mapping delegating to Python code."""

    def __init__(
        self,
        name: str,
        reference: str,
        *,
        mapping: InboundMapping | None = None,
        function: Callable[[Any], Any] | None = None,
        model: type[Entity] | None = None,
        event_type: str | None = None,
    ) -> None:
        self.name = name
        self.reference = reference
        self._mapping = mapping
        self._function = function
        self._model = model
        self._type = event_type

    def to_canonical(self, record: Any, context: MappingContext) -> list[Envelope]:
        """The events the code gives for ``record``, validated."""
        return list(_guarded(self.reference, context.where, lambda: self._map(record, context)))

    def _map(self, record: Any, context: MappingContext) -> list[Envelope]:
        if self._mapping is not None:
            return list(self._mapping.to_canonical(record, context))
        assert self._function is not None
        assert self._model is not None
        assert self._type is not None
        produced = self._function(record)
        items = produced if isinstance(produced, list) else [produced]
        events = []
        for number, data in enumerate(items):
            label = self.name if len(items) == 1 else f"{self.name}[{number}]"
            if not isinstance(data, dict):
                raise MappingFailed(
                    f"{self.reference} returned {type(data).__name__}, not a dict", field=label
                )
            events.append(build_event(self._model, data, output=label, type=self._type, context=context))
        return events


class PythonOutboundMapping:
    """An outbound mapping delegating to Python code."""

    def __init__(
        self,
        name: str,
        reference: str,
        *,
        mapping: OutboundMapping | None = None,
        function: Callable[[Any], Any] | None = None,
    ) -> None:
        self.name = name
        self.reference = reference
        self._mapping = mapping
        self._function = function

    def from_canonical(self, envelope: Envelope) -> Any:
        """The record the code gives for ``envelope``."""
        if self._mapping is not None:
            mapping = self._mapping
            return _guarded(self.reference, f"event {envelope.id}", lambda: mapping.from_canonical(envelope))
        function = self._function
        assert function is not None
        return _guarded(
            self.reference, f"event {envelope.id}", lambda: function(canonical_view(envelope, None))
        )


def compile_python(spec: PythonMappingSpec, path: PathKey) -> tuple[Any, Problems]:  # noqa: PLR0911 - one exit per kind of target
    """The mapping ``spec`` names, imported now; problems say what is missing or wrong."""
    where = (*path, "python")
    try:
        target = import_object(spec.python)
    except ValueError as exc:
        return None, [(where, str(exc))]
    if isinstance(target, type):
        try:
            target = target()
        except TypeError as exc:
            return None, [(where, f"{spec.python} cannot be created without arguments: {exc}")]
    method = "to_canonical" if spec.direction == "inbound" else "from_canonical"
    if callable(getattr(target, method, None)):
        if spec.direction == "inbound":
            return PythonInboundMapping(spec.name, spec.python, mapping=target), []
        return PythonOutboundMapping(spec.name, spec.python, mapping=target), []
    if not callable(target):
        return None, [(where, f"{spec.python} has no {method}() and is not a function")]
    if spec.direction == "outbound":
        return PythonOutboundMapping(spec.name, spec.python, function=target), []
    problems: Problems = []
    model = CANONICAL_MODELS.get(spec.schema_name or "")
    if model is None or not issubclass(model, Entity):
        problems.append(
            ((*path, "schema"), "a plain inbound function needs the canonical `schema` of its dicts")
        )
    if spec.type is None:
        problems.append(((*path, "type"), "a plain inbound function needs the event `type` of its dicts"))
    elif spec.type in EVENT_TYPES and EVENT_TYPES[spec.type].schema != spec.schema_name:
        problems.append(((*path, "type"), f"{spec.type!r} carries {EVENT_TYPES[spec.type].schema!r}"))
    if problems or model is None or not issubclass(model, Entity):
        return None, problems
    mapping = PythonInboundMapping(spec.name, spec.python, function=target, model=model, event_type=spec.type)
    return mapping, []
