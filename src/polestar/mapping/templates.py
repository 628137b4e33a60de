"""Field trees: the shape of a canonical payload (inbound) or a system record (outbound).

A tree is YAML: a mapping's keys are field names; a text leaf is a JMESPath
expression; a number, ``true``/``false`` or ``null`` is itself; a list builds
an array item by item. A mapping whose keys start with ``$`` is a directive
(see :mod:`polestar.mapping.spec`): ``$const``, ``$expr``, ``$each`` /
``$item``, ``$python`` / ``$args``, and ``$when`` on any of them or beside
ordinary fields. ``null`` and empty text mean "absent": the field is left
out, and an object or array left empty is left out too.

Trees are compiled once, checked against the canonical model's fields (with
a suggestion for a near miss), and rendered per record.
"""

from __future__ import annotations

import difflib
import enum
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from polestar.config.yaml_document import PathKey
from polestar.errors import MappingFailed
from polestar.mapping.expressions import Expression, Names, compile_expression
from polestar.mapping.functions import current_scope
from polestar.mapping.pycall import import_object
from polestar.mapping.spec import DIRECTIVE_MODELS

Problems = list[tuple[PathKey, str]]


def truthy(value: Any) -> bool:
    """JMESPath truth: null, false, empty text, empty arrays and objects are false."""
    return value not in (None, False, "", [], {})


def _absent(value: Any) -> bool:
    return value is None or value == ""


def _join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


@dataclass(frozen=True, slots=True)
class Const:
    """A fixed value."""

    value: Any
    when: Expression | None = None

    def render(self, data: Any, path: str) -> Any:
        """The value, unless ``$when`` is false."""
        if self.when is not None and not truthy(self.when.evaluate(data, path)):
            return None
        return self.value


@dataclass(frozen=True, slots=True)
class Expr:
    """A JMESPath expression over the current data."""

    expression: Expression
    when: Expression | None = None

    def render(self, data: Any, path: str) -> Any:
        """The expression's value; empty text counts as absent."""
        if self.when is not None and not truthy(self.when.evaluate(data, path)):
            return None
        value = self.expression.evaluate(data, path)
        return None if _absent(value) else value


@dataclass(frozen=True, slots=True)
class Obj:
    """An object built field by field; left out when every field is absent."""

    fields: dict[str, Node]
    when: Expression | None = None

    def render(self, data: Any, path: str) -> Any:
        """The object, without absent fields."""
        if self.when is not None and not truthy(self.when.evaluate(data, path)):
            return None
        built = {}
        for key, node in self.fields.items():
            value = node.render(data, _join(path, key))
            if value is not None:
                built[key] = value
        return built or None


@dataclass(frozen=True, slots=True)
class Arr:
    """An array written out item by item; absent items are dropped."""

    items: tuple[Node, ...]

    def render(self, data: Any, path: str) -> Any:
        """The array, without absent items."""
        values = [node.render(data, f"{path}[{n}]") for n, node in enumerate(self.items)]
        kept = [value for value in values if value is not None]
        return kept or None


@dataclass(frozen=True, slots=True)
class Each:
    """One item per element of a list in the data; inside, ``@`` is the element."""

    source: Expression
    item: Node
    when: Expression | None = None

    def render(self, data: Any, path: str) -> Any:
        """The array built from each element (a single object counts as a list of one)."""
        if self.when is not None and not truthy(self.when.evaluate(data, path)):
            return None
        elements = as_list(self.source.evaluate(data, path))
        scope = current_scope()
        outer = scope.index if scope is not None else None
        kept = []
        try:
            for number, element in enumerate(elements):
                if scope is not None:
                    scope.index = number
                value = self.item.render(element, f"{path}[{number}]")
                if value is not None:
                    kept.append(value)
        finally:
            if scope is not None:
                scope.index = outer
        return kept or None


@dataclass(frozen=True, slots=True)
class PyCall:
    """A registered Python function called with the values of its argument expressions."""

    function: Callable[..., Any]
    reference: str
    args: tuple[Expression, ...]
    when: Expression | None = None

    def render(self, data: Any, path: str) -> Any:
        """The function's result; data errors it raises become ``MappingFailed``."""
        if self.when is not None and not truthy(self.when.evaluate(data, path)):
            return None
        values = [arg.evaluate(data, path) for arg in self.args]
        try:
            result = self.function(*values)
        except MappingFailed as exc:
            raise MappingFailed(exc.reason, field=exc.field or path) from None
        except (ValueError, TypeError, LookupError, ArithmeticError) as exc:
            raise MappingFailed(f"{self.reference} raised {type(exc).__name__}: {exc}", field=path) from None
        return None if _absent(result) else result


Node = Const | Expr | Obj | Arr | Each | PyCall


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: null is empty, a lone object (one repeated XML element) is a list of one."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]


# --- the canonical model's shape ---------------------------------------------------------------

_SCALARS = (str, int, float, bool, date, datetime, time, enum.Enum)


def _members(hint: Any) -> list[Any]:
    origin = get_origin(hint)
    if origin is Annotated:
        return _members(get_args(hint)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(hint) for m in _members(arg)]
    return [] if hint is type(None) else [hint]


def object_fields(hint: Any) -> dict[str, FieldInfo] | None:
    """The fields an object at ``hint`` may have, or None when the model does not say."""
    found: dict[str, FieldInfo] = {}
    for member in _members(hint):
        if isinstance(member, type) and issubclass(member, BaseModel):
            found.update(member.model_fields)
        elif member is Any or get_origin(member) in (dict, Mapping) or member is dict:
            return None
    return found or None


def item_hint(hint: Any) -> Any | None:
    """The type of an array's items at ``hint``; None when ``hint`` is not an array."""
    items = []
    for member in _members(hint):
        if member is Any:
            return Any
        origin = get_origin(member)
        if origin in (tuple, list, set, frozenset):
            args = [a for a in get_args(member) if a is not Ellipsis]
            items.extend(args or [Any])
    if not items:
        return None
    return items[0] if len(items) == 1 else Union[tuple(items)]  # noqa: UP007 - built at runtime


def is_scalar(hint: Any) -> bool:
    """True when a value at ``hint`` is a single value, never an object or array."""
    members = _members(hint)
    return bool(members) and all(isinstance(m, type) and issubclass(m, _SCALARS) for m in members)


# --- compiling ---------------------------------------------------------------------------------


@dataclass
class TreeCompiler:
    """Compiles trees, collecting every problem with its YAML path instead of stopping at the first."""

    names: Names
    problems: Problems = field(default_factory=list)
    check: Callable[[Expression], list[str]] | None = None
    """Further checks of each expression evaluated at the root (not inside ``$each``)."""
    _depth_in_each: int = 0

    def expression(self, text: Any, path: PathKey) -> Expression | None:
        """``text`` compiled, or None with the problem recorded."""
        if not isinstance(text, str):
            self.problems.append((path, f"an expression must be text, not {type(text).__name__}"))
            return None
        compiled, problems = compile_expression(text, self.names)
        if compiled is not None and self.check is not None and not self._depth_in_each:
            problems.extend(self.check(compiled))
        self.problems.extend((path, problem) for problem in problems)
        return compiled

    def tree(self, raw: Any, path: PathKey, hint: Any = Any, label: str = "") -> Node:
        """Compile ``raw`` found at ``path``; ``hint`` is the canonical type there (Any: unchecked)."""
        if isinstance(raw, str):
            compiled = self.expression(raw, path)
            return Expr(compiled) if compiled is not None else Const(None)
        if isinstance(raw, list):
            inner = self._array_hint(hint, path, label)
            return Arr(tuple(self.tree(item, (*path, n), inner, label) for n, item in enumerate(raw)))
        if isinstance(raw, dict):
            if any(isinstance(key, str) and key.startswith("$") and key != "$when" for key in raw):
                return self._directive(raw, path, hint, label)
            return self._object(raw, path, hint, label)
        return Const(raw)

    def _array_hint(self, hint: Any, path: PathKey, label: str) -> Any:
        inner = item_hint(hint)
        if inner is None:
            if hint is not Any and (is_scalar(hint) or object_fields(hint) is not None):
                self.problems.append((path, f"{label or 'this'} is a single value, not an array"))
            return Any
        return inner

    def _object(self, raw: dict[Any, Any], path: PathKey, hint: Any, label: str) -> Obj:
        allowed = object_fields(hint) if hint is not Any else None
        if allowed is None and hint is not Any and (is_scalar(hint) or item_hint(hint) is not None):
            self.problems.append((path, f"{label or 'this'} is a single value or array, not an object"))
        when = self.expression(raw["$when"], (*path, "$when")) if "$when" in raw else None
        fields: dict[str, Node] = {}
        for key, value in raw.items():
            if key == "$when":
                continue
            key_path = (*path, str(key))
            child_hint: Any = Any
            if allowed is not None:
                if key not in allowed:
                    near = difflib.get_close_matches(str(key), list(allowed), n=1)
                    hint_text = f"; did you mean {near[0]!r}?" if near else ""
                    where = label or "this object"
                    self.problems.append((key_path, f"{where} has no field {key!r}{hint_text}"))
                    continue
                child_hint = allowed[key].annotation
            fields[str(key)] = self.tree(value, key_path, child_hint, _join(label, str(key)))
        return Obj(fields, when)

    def _directive(self, raw: dict[Any, Any], path: PathKey, hint: Any, label: str) -> Node:
        kind = next((key for key in DIRECTIVE_MODELS if key in raw), None)
        if kind is None:
            unknown = sorted(str(k) for k in raw if str(k).startswith("$"))
            known = ", ".join([*DIRECTIVE_MODELS, "$when"])
            self.problems.append((path, f"unknown directive {', '.join(unknown)}; known: {known}"))
            return Const(None)
        try:
            spec = DIRECTIVE_MODELS[kind].model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors():
                where = (*path, *(str(p) for p in error["loc"]))
                self.problems.append((where, error["msg"]))
            return Const(None)
        when = self.expression(raw["$when"], (*path, "$when")) if "$when" in raw else None
        if kind == "$const":
            return Const(raw["$const"], when)
        if kind == "$expr":
            compiled = self.expression(raw["$expr"], (*path, "$expr"))
            return Expr(compiled, when) if compiled is not None else Const(None)
        if kind == "$each":
            source = self.expression(raw["$each"], (*path, "$each"))
            inner = self._array_hint(hint, path, label)
            self._depth_in_each += 1
            try:
                item = self.tree(raw.get("$item", "@"), (*path, "$item"), inner, label)
            finally:
                self._depth_in_each -= 1
            return Each(source, item, when) if source is not None else Const(None)
        return self._python(raw, path, when, getattr(spec, "args", ["@"]))

    def _python(self, raw: dict[Any, Any], path: PathKey, when: Expression | None, args: list[str]) -> Node:
        reference = str(raw["$python"])
        try:
            function = import_object(reference)
        except ValueError as exc:
            self.problems.append(((*path, "$python"), str(exc)))
            return Const(None)
        if not callable(function):
            self.problems.append(((*path, "$python"), f"{reference} is not callable"))
            return Const(None)
        compiled = [self.expression(arg, (*path, "$args", n)) for n, arg in enumerate(args)]
        if any(arg is None for arg in compiled):
            return Const(None)
        return PyCall(function, reference, tuple(a for a in compiled if a is not None), when)
