"""Declarative inbound mappings: one system record to canonical events, output by output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from polestar.config.yaml_document import PathKey
from polestar.errors import MappingFailed
from polestar.mapping.codelists import CodeList
from polestar.mapping.contract import MappingContext
from polestar.mapping.events import build_event
from polestar.mapping.expressions import Expression, Names
from polestar.mapping.functions import Scope, scoped
from polestar.mapping.spec import InboundMappingSpec, OutputSpec
from polestar.mapping.templates import Node, Obj, Problems, TreeCompiler, as_list, truthy
from polestar.model.catalogue import EVENT_TYPES
from polestar.model.common import Entity, Provenance
from polestar.model.envelope import Envelope
from polestar.model.registry import CANONICAL_MODELS


@dataclass(frozen=True, slots=True)
class CompiledOutput:
    """One output, compiled."""

    name: str
    model: type[Entity]
    type: str
    fields: Node
    id: Expression | None
    subject: Expression | None
    partitionkey: Expression | None
    classification: Expression | None
    time: Expression | None
    when: Expression | None
    for_each: Expression | None


class DeclarativeInboundMapping:
    """An :class:`~polestar.mapping.contract.InboundMapping` built from a YAML declaration."""

    def __init__(
        self,
        name: str,
        outputs: tuple[CompiledOutput, ...],
        provenance: Node | None,
        code_lists: Mapping[str, CodeList],
        ignore: Expression | None = None,
    ) -> None:
        self.name = name
        self.outputs = outputs
        self._provenance = provenance
        self._code_lists = code_lists
        self._ignore = ignore

    def to_canonical(self, record: Any, context: MappingContext) -> list[Envelope]:
        """The events ``record`` gives; ``MappingFailed`` names the canonical field and the record."""
        events: list[Envelope] = []
        try:
            with scoped(Scope(record, context, self._code_lists)) as scope:
                if self._ignore is not None and truthy(self._ignore.evaluate(record, "ignore_when")):
                    return []  # no event, by the mapping's design
                for output in self.outputs:
                    events.extend(self._output(output, record, context, scope))
        except MappingFailed as exc:
            raise MappingFailed(exc.reason, field=exc.field, where=exc.where or context.where) from None
        if not events:
            raise MappingFailed(
                f"no output of mapping {self.name!r} applies to this record (no `when` held) "
                "and its `ignore_when` does not cover it",
                field="outputs",
                where=context.where,
            )
        return events

    def _output(
        self, output: CompiledOutput, record: Any, context: MappingContext, scope: Scope
    ) -> list[Envelope]:
        if output.when is not None and not truthy(output.when.evaluate(record, f"{output.name}.when")):
            return []
        if output.for_each is None:
            return [self._event(output, record, context, scope)]
        items = as_list(output.for_each.evaluate(record, f"{output.name}.for_each"))
        events = []
        for number, item in enumerate(items):
            scope.index = number
            events.append(self._event(output, item, context, scope, f"{output.name}[{number}]"))
        scope.index = None
        return events

    def _event(
        self, output: CompiledOutput, data: Any, context: MappingContext, scope: Scope, label: str = ""
    ) -> Envelope:
        label = label or output.name
        built = output.fields.render(data, label) or {}
        if self._provenance is not None:
            defaults = self._provenance.render(data, f"{label}.provenance") or {}
            given = built.get("provenance")
            built["provenance"] = {**defaults, **given} if isinstance(given, dict) else given or defaults
        attributes = {
            name: _value(expression, data, f"{label}.{name}")
            for name, expression in (
                ("subject", output.subject),
                ("partitionkey", output.partitionkey),
                ("classification", output.classification),
                ("time", output.time),
            )
        }
        if output.id is not None:
            entity_id = _value(output.id, data, f"{label}.id")
            if entity_id is None:
                raise MappingFailed("the id expression gave nothing", field=f"{label}.id")
            built["id"] = str(entity_id)
        event = build_event(
            output.model, built, output=label, type=output.type, context=context, **attributes
        )
        if event.data is not None:
            scope.ids[output.name] = str(event.data["id"])
        return event


def _value(expression: Expression | None, data: Any, field: str) -> Any:
    if expression is None:
        return None
    value = expression.evaluate(data, field)
    return None if value in (None, "") else value


def compile_inbound(
    spec: InboundMappingSpec, path: PathKey, code_lists: Mapping[str, CodeList]
) -> tuple[DeclarativeInboundMapping, Problems]:
    """Compile ``spec`` (found at ``path`` in its file), with every problem located."""
    problems: Problems = []
    provenance: Node | None = None
    if spec.provenance:
        compiler = TreeCompiler(Names(code_lists))
        provenance = compiler.tree(spec.provenance, (*path, "provenance"), Provenance, "provenance")
        problems.extend(compiler.problems)
    outputs: list[CompiledOutput] = []
    seen: list[str] = []
    for number, output in enumerate(spec.outputs):
        where = (*path, "outputs", number)
        compiled, found = _compile_output(
            output, where, Names(code_lists, tuple(seen)), bool(spec.provenance)
        )
        problems.extend(found)
        name = output.name or output.schema_name
        if name in seen:
            problems.append(((*where, "name"), f"output name {name!r} is used twice; give each a `name`"))
        seen.append(name)
        if compiled is not None:
            outputs.append(compiled)
    ignore: Expression | None = None
    if spec.ignore_when is not None:
        compiler = TreeCompiler(Names(code_lists))
        ignore = compiler.expression(spec.ignore_when, (*path, "ignore_when"))
        problems.extend(compiler.problems)
    mapping = DeclarativeInboundMapping(spec.name, tuple(outputs), provenance, code_lists, ignore)
    return mapping, problems


def _compile_output(
    spec: OutputSpec, path: PathKey, names: Names, has_provenance: bool
) -> tuple[CompiledOutput | None, Problems]:
    problems: Problems = []
    model = CANONICAL_MODELS.get(spec.schema_name)
    if model is None or not issubclass(model, Entity):
        known = ", ".join(sorted(n for n, m in CANONICAL_MODELS.items() if issubclass(m, Entity)))
        problems.append(
            ((*path, "schema"), f"no canonical schema is named {spec.schema_name!r}; known: {known}")
        )
        return None, problems
    catalogued = EVENT_TYPES.get(spec.type)
    if catalogued is not None and catalogued.schema != spec.schema_name:
        problems.append(
            ((*path, "type"), f"{spec.type!r} carries {catalogued.schema!r}, not {spec.schema_name!r}")
        )
    if "id" in spec.fields:
        problems.append(((*path, "fields", "id"), "give the entity id as the output's `id:`, not as a field"))
    compiler = TreeCompiler(names)
    fields = compiler.tree(spec.fields, (*path, "fields"), model, spec.name or spec.schema_name)
    supplied = set(spec.fields) | ({"provenance"} if has_provenance else set())
    if spec.classification is not None:
        supplied.add("marking")
    for field_name, info in model.model_fields.items():
        if info.is_required() and field_name not in supplied:
            problems.append(
                ((*path, "fields"), f"{spec.schema_name} needs {field_name!r}, which is not mapped")
            )

    def expression(text: str | None, key: str) -> Expression | None:
        return None if text is None else compiler.expression(text, (*path, key))

    compiled = CompiledOutput(
        name=spec.name or spec.schema_name,
        model=model,
        type=spec.type,
        fields=fields if isinstance(fields, Obj) else Obj({}),
        id=expression(spec.id, "id"),
        subject=expression(spec.subject, "subject"),
        partitionkey=expression(spec.partitionkey, "partitionkey"),
        classification=expression(spec.classification, "classification"),
        time=expression(spec.time, "time"),
        when=expression(spec.when, "when"),
        for_each=expression(spec.for_each, "for_each"),
    )
    return compiled, problems + compiler.problems
