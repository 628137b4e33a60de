"""Declarative outbound mappings: one canonical event to a system record (JSON, CSV row or XML).

The template's expressions read the envelope as JSON: ``type``, ``subject``,
``time`` and ``data.<field>``. When the mapping names a ``schema`` the data is
validated (and upcast from an older version) first, so a template always reads
the current model.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal, cast

from pydantic import ValidationError

from polestar.config.yaml_document import PathKey
from polestar.errors import MappingFailed, ModelError
from polestar.mapping.codelists import CodeList
from polestar.mapping.events import validation_failure
from polestar.mapping.expressions import Expression, Names
from polestar.mapping.functions import Scope, scoped
from polestar.mapping.spec import OutboundMappingSpec
from polestar.mapping.templates import Arr, Each, Node, Obj, Problems, TreeCompiler, item_hint, object_fields
from polestar.model.common import Entity
from polestar.model.envelope import Envelope, parse_schema_urn
from polestar.model.evolution import from_envelope
from polestar.model.registry import CANONICAL_MODELS

RecordFormat = Literal["json", "csv", "xml"]

_XML_NAME = re.compile(r"^(?:@?[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?|#text)$")


def canonical_view(envelope: Envelope, schema: str | None) -> dict[str, Any]:
    """The envelope as JSON with its data validated, and upcast to the current version."""
    view = envelope.model_dump(mode="json", exclude_none=True)
    if envelope.dataschema is None or envelope.data is None:
        if schema is not None:
            raise MappingFailed(f"the event carries no {schema} data", field="dataschema")
        return view
    name, _ = parse_schema_urn(envelope.dataschema)
    if schema is not None and name != schema:
        raise MappingFailed(f"the event carries {name!r} data, not {schema!r}", field="dataschema")
    try:
        model = from_envelope(envelope)
    except ValidationError as exc:
        raise validation_failure(exc, "data") from None
    except ModelError as exc:
        raise MappingFailed(str(exc), field="dataschema") from None
    view["data"] = model.model_dump(mode="json", exclude_none=True)
    return view


class DeclarativeOutboundMapping:
    """An :class:`~polestar.mapping.contract.OutboundMapping` built from a YAML declaration."""

    def __init__(
        self,
        name: str,
        template: Node,
        *,
        schema: str | None,
        types: frozenset[str],
        record_format: RecordFormat,
        code_lists: Mapping[str, CodeList],
    ) -> None:
        self.name = name
        self.schema = schema
        self.types = types
        self.format = record_format
        self._template = template
        self._code_lists = code_lists

    def from_canonical(self, envelope: Envelope) -> Any:
        """The system record for ``envelope``; ``MappingFailed`` names the field and the event."""
        where = f"event {envelope.id}"
        try:
            self._check_type(envelope)
            view = canonical_view(envelope, self.schema)
            with scoped(Scope(view, None, self._code_lists)):
                record = self._template.render(view, "")
            return self._shape(record)
        except MappingFailed as exc:
            raise MappingFailed(exc.reason, field=exc.field, where=exc.where or where) from None

    def _check_type(self, envelope: Envelope) -> None:
        if self.types and envelope.type not in self.types:
            accepted = ", ".join(sorted(self.types))
            raise MappingFailed(
                f"mapping {self.name!r} takes {accepted}, not {envelope.type!r}", field="type"
            )

    def _shape(self, record: Any) -> Any:
        if self.format == "csv":
            assert isinstance(self._template, Obj)
            row = record or {}
            return {column: _cell(row.get(column), column) for column in self._template.fields}
        if record is None:
            if self.format == "xml":
                raise MappingFailed("every value of the record is empty: there is no XML element to send")
            return {}
        return record


def _cell(value: Any, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise MappingFailed("gives an object or array; a CSV cell holds one value", field=column)
    return str(value)


def compile_outbound(
    spec: OutboundMappingSpec, path: PathKey, code_lists: Mapping[str, CodeList]
) -> tuple[DeclarativeOutboundMapping, Problems]:
    """Compile ``spec`` (found at ``path`` in its file), with every problem located."""
    problems: Problems = []
    model: type[Entity] | None = None
    if spec.schema_name is not None:
        found = CANONICAL_MODELS.get(spec.schema_name)
        if found is not None and issubclass(found, Entity):
            model = found
        else:
            known = ", ".join(sorted(n for n, m in CANONICAL_MODELS.items() if issubclass(m, Entity)))
            problems.append(
                ((*path, "schema"), f"no canonical schema is named {spec.schema_name!r}; known: {known}")
            )
    check = None
    if model is not None:
        entity = model
        check = lambda expression: data_path_problems(expression, entity)  # noqa: E731 - a one-line closure
    compiler = TreeCompiler(Names(code_lists), check=check)
    template = compiler.tree(spec.record, (*path, "record"))
    problems.extend(compiler.problems)
    problems.extend(_shape_problems(spec, template, (*path, "record")))
    mapping = DeclarativeOutboundMapping(
        spec.name,
        template,
        schema=spec.schema_name,
        types=frozenset(spec.types),
        record_format=spec.format,
        code_lists=code_lists,
    )
    return mapping, problems


def _shape_problems(
    spec: OutboundMappingSpec, template: Node, path: PathKey
) -> Iterator[tuple[PathKey, str]]:
    if spec.format == "csv" and isinstance(template, Obj):
        for column, node in template.fields.items():
            if isinstance(node, Obj | Arr | Each):
                yield (*path, column), "a CSV column holds one value, not an object or array"
    if spec.format == "xml" and isinstance(template, Obj):
        roots = [key for key in template.fields if not key.startswith(("@", "#"))]
        if len(roots) != 1 or len(template.fields) != 1:
            yield path, "an XML record has exactly one root element: one key holding the rest"
        yield from _xml_name_problems(template, path)


def _xml_name_problems(node: Node, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(node, Obj):
        for key, child in node.fields.items():
            if not _XML_NAME.match(key):
                yield (*path, key), f"{key!r} is not an XML element name, '@attribute' or '#text'"
            yield from _xml_name_problems(child, (*path, key))
    elif isinstance(node, Each):
        yield from _xml_name_problems(node.item, (*path, "$item"))


def _chain(node: dict[str, Any]) -> list[str] | None:
    if node.get("type") == "field":
        return [str(node["value"])]
    if node.get("type") == "subexpression":
        parts = [_chain(child) for child in node.get("children", [])]
        if all(part is not None for part in parts):
            return [name for part in parts if part is not None for name in part]
    return None


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children", []):
        if isinstance(child, dict):
            yield from _walk(child)


def data_path_problems(expression: Expression, model: type[Entity]) -> list[str]:
    """Problems with each ``data.a.b`` path in ``expression`` that ``model`` has no field for."""
    problems: list[str] = []
    for node in _walk(cast("dict[str, Any]", expression.parsed.parsed)):
        chain = _chain(node)
        if not chain or chain[0] != "data" or len(chain) < 2:
            continue
        hint: Any = model
        for depth, name in enumerate(chain[1:], start=1):
            fields = object_fields(hint)
            if fields is None:
                break
            if name not in fields:
                near = difflib.get_close_matches(name, list(fields), n=1)
                suggestion = f"; did you mean {near[0]!r}?" if near else ""
                where = ".".join(chain[:depth])
                problem = f"{where} has no field {name!r}{suggestion}"
                if problem not in problems:
                    problems.append(problem)
                break
            hint = fields[name].annotation
            if item_hint(hint) is not None:
                break
    return problems
