"""docs/connectors/{soap,nats,amqp,mqtt,email}.md: the configuration tables are generated from the models.

Each page has hand-written prose and, between the markers below, tables made
from the kind's pydantic config models. This test fails when a table is stale;
``POLESTAR_WRITE_DOCS=1 pytest tests/unit/connectors/test_email_and_broker_kind_docs.py``
rewrites them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from polestar.connectors import amqp, email, mqtt, nats, soap

DOCS = Path(__file__).resolve().parents[3] / "docs" / "connectors"
BEGIN, END = "<!-- config: generated from the models -->", "<!-- end of generated config -->"
NESTED: dict[str, list[type[BaseModel]]] = {"nats": [nats.JetStreamPull]}
KINDS = {"soap": soap.KIND, "nats": nats.KIND, "amqp": amqp.KIND, "mqtt": mqtt.KIND, "email": email.KIND}


def _type(annotation: object) -> str:
    text = getattr(annotation, "__name__", None) if isinstance(annotation, type) else None
    text = text or str(annotation).replace("typing.", "").replace("pathlib.", "").replace(
        "pydantic_core._pydantic_core.", ""
    )
    return text.replace("|", "\\|")


def _default(field) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "**required**"
    value = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
    return f"`{value!r}`" if value not in (None, (), {}) else ("—" if value is None else f"`{value!r}`")


def config_table(model: type[BaseModel]) -> str:
    """A markdown table of ``model``'s fields: name, type, default, description and an example."""
    lines = [f"#### `{model.__name__}`", "", (model.__doc__ or "").strip().splitlines()[0], ""]
    lines += ["| field | type | default | description |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        description = (field.description or "").replace("|", "\\|").replace("\n", " ")
        if field.examples:
            description += f" Example: `{field.examples[0]!r}`."
        lines.append(f"| `{name}` | {_type(field.annotation)} | {_default(field)} | {description} |")
    return "\n".join(lines)


def generated(kind: str) -> str:
    models = [m for m in (KINDS[kind].inbound_config, KINDS[kind].outbound_config) if m is not None]
    models += NESTED.get(kind, [])
    return "\n\n".join(config_table(m) for m in models)


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_config_tables_match_the_models(kind):
    page = DOCS / f"{kind}.md"
    text = page.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    fresh = f"{head}{BEGIN}\n\n{generated(kind)}\n\n{END}{tail}"
    if os.environ.get("POLESTAR_WRITE_DOCS") == "1":
        page.write_text(fresh, encoding="utf-8")
    assert text == fresh, f"{page} is stale: run POLESTAR_WRITE_DOCS=1 pytest {__file__}"
