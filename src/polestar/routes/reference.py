"""The route configuration reference (``docs/routes.md``), generated from the config models.

``docs/routes.md`` has a hand-written introduction above ``GENERATED_MARK``;
``update_reference`` keeps it and regenerates everything below from the
pydantic models in ``polestar.routes.config`` (their docstrings, field
types, defaults, descriptions and examples) and the example folder's route
file. A test checks the committed file is what this produces.
"""

from __future__ import annotations

import inspect
import json
import types
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from polestar.bus.contract import BackoffPolicy
from polestar.routes.config import (
    AggregateStep,
    CallStep,
    ChoiceStep,
    ChoiceWhen,
    CircuitBreakerConfig,
    ConnectorOutput,
    EnrichStep,
    FilterStep,
    MapStep,
    RouteConfig,
    RoutesFile,
    RouteSource,
    SetStep,
    SplitStep,
    SubjectOutput,
    ThrottleStep,
    WiretapStep,
)

GENERATED_MARK = (
    "<!-- Everything below is generated from polestar.routes.config by polestar.routes.reference: "
    "do not edit it by hand. -->"
)

EXAMPLE_FILE = Path("examples/integration/routes/custody-outwards.yaml")

SECTIONS: tuple[tuple[str, tuple[type[BaseModel], ...]], ...] = (
    ("Route files", (RoutesFile, RouteConfig)),
    ("Input and retry policy", (RouteSource, BackoffPolicy)),
    (
        "Steps",
        (
            FilterStep,
            MapStep,
            SetStep,
            EnrichStep,
            CallStep,
            ChoiceStep,
            ChoiceWhen,
            SplitStep,
            AggregateStep,
            WiretapStep,
            ThrottleStep,
        ),
    ),
    ("Outputs", (ConnectorOutput, SubjectOutput, CircuitBreakerConfig)),
)

_TITLES: dict[type[BaseModel], str] = {
    RoutesFile: "A route file",
    RouteConfig: "A route",
    RouteSource: "from",
    BackoffPolicy: "from.backoff",
    ChoiceWhen: "choice.when[]",
    ConnectorOutput: "to: connector",
    SubjectOutput: "to: subject",
    CircuitBreakerConfig: "to: connector → circuit_breaker",
}


def title_of(model: type[BaseModel]) -> str:
    """The heading of a model's section: ``step: filter`` for steps."""
    if model in _TITLES:
        return _TITLES[model]
    step = model.model_fields.get("step")
    if step is not None and isinstance(step.default, str):
        return f"step: {step.default}"
    return model.__name__


def anchor_of(model: type[BaseModel]) -> str:
    """The GitHub anchor of a model's heading."""
    keep = [c for c in title_of(model).lower() if c.isalnum() or c in " -_"]
    return "".join(keep).strip().replace(" ", "-")


def render_reference(example: str | None = None) -> str:
    """The generated part of ``docs/routes.md``."""
    lines = ["## Reference", ""]
    for heading, models in SECTIONS:
        lines += [f"### {heading}", ""]
        for model in models:
            lines += _model_section(model)
    if example is not None:
        lines += [
            "## The full example",
            "",
            f"`{EXAMPLE_FILE.as_posix()}`, checked by the test suite with the connectors and mappings "
            "beside it:",
            "",
            "```yaml",
            example.rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"


def update_reference(document: str, example: str | None = None) -> str:
    """``document`` with everything after ``GENERATED_MARK`` regenerated (the mark is added if missing)."""
    intro = document.split(GENERATED_MARK, 1)[0].rstrip()
    return f"{intro}\n\n{GENERATED_MARK}\n\n{render_reference(example)}"


def write_reference(docs_file: Path, root: Path) -> bool:
    """Regenerate ``docs_file`` in place; True if it changed."""
    example_path = root / EXAMPLE_FILE
    example = example_path.read_text(encoding="utf-8") if example_path.is_file() else None
    before = docs_file.read_text(encoding="utf-8") if docs_file.is_file() else ""
    after = update_reference(before, example)
    if after != before:
        docs_file.write_text(after, encoding="utf-8")
    return after != before


def _model_section(model: type[BaseModel]) -> list[str]:
    lines = [f"#### {title_of(model)}", ""]
    doc = inspect.cleandoc(model.__doc__ or "")
    if doc:
        lines += [doc, ""]
    lines += ["| setting | type | default | description |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        if name == "step":
            continue
        lines.append(
            f"| `{info.alias or name}` | {_cell(_type_text(info.annotation))} | {_cell(_default(info))} "
            f"| {_cell(_description(info))} |"
        )
    lines.append("")
    return lines


def _description(info: FieldInfo) -> str:
    text = " ".join((info.description or "").split())
    if info.examples:
        shown = ", ".join(f"`{_literal(e)}`" for e in info.examples)
        text = f"{text} Example: {shown}." if text else f"Example: {shown}."
    return text


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "see below" if type(value).model_fields else ""
        return f"`{_literal(value)}`"
    if info.default is PydanticUndefined:  # pragma: no cover - required handled above
        return ""
    return f"`{_literal(info.default)}`"


def _literal(value: Any) -> str:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, str):
        return value or '""'
    return json.dumps(value, ensure_ascii=False)


def _type_text(annotation: Any) -> str:  # noqa: PLR0911 - one answer per kind of type
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return _type_text(args[0])
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        text = " or ".join(_type_text(a) for a in members)
        return f"{text} (optional)" if len(members) < len(args) else text
    if origin is Literal:
        return " or ".join(f"`{a}`" for a in args)
    if origin in (tuple, list):
        inner = args[0] if args else Any
        return f"list of {_type_text(inner)}"
    if origin is dict:
        return f"map of {_type_text(args[0])} to {_type_text(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " or ".join(f"`{m.value}`" for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{title_of(annotation)}](#{anchor_of(annotation)})"
    return {str: "text", int: "integer", float: "number", bool: "true/false"}.get(annotation, "value")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> None:  # pragma: no cover - the make target's entry point
    """Regenerate ``docs/routes.md`` from the working directory (the repository root)."""
    changed = write_reference(Path("docs/routes.md"), Path())
    print("docs/routes.md", "updated" if changed else "unchanged")  # noqa: T201 - a command's output


if __name__ == "__main__":  # pragma: no cover
    main()
