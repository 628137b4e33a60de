import json
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict, Field

from polestar.docs_gen import Category, canonical_schemas, render_docs, write_docs
from polestar.model import CANONICAL_MODELS

REPO = Path(__file__).resolve().parents[3]
GENERATED = ("schemas", "data-dictionary")


def tree(root):
    return {
        str(path.relative_to(root)): path.read_text(encoding="utf-8")
        for folder in GENERATED
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def test_committed_docs_match_what_the_model_generates(tmp_path):
    write_docs(tmp_path)
    expected, committed = tree(tmp_path), tree(REPO / "docs")
    stale = sorted(
        [f"changed: {name}" for name in expected if name in committed and committed[name] != expected[name]]
        + [f"missing: {name}" for name in expected if name not in committed]
        + [f"extra: {name}" for name in committed if name not in expected]
    )
    assert not stale, "docs/ is out of date with the model; run `make docs`:\n" + "\n".join(stale)


def test_generation_is_deterministic():
    assert render_docs() == render_docs()


def test_every_registered_model_has_a_schema_and_a_page():
    files = render_docs()
    for name in CANONICAL_MODELS:
        assert f"schemas/{name}.schema.json" in files
        assert f"data-dictionary/{name}.md" in files
    assert "data-dictionary/index.md" in files


@pytest.mark.parametrize("entry", canonical_schemas(), ids=lambda e: e.name)
def test_each_schema_is_valid_draft_2020_12_with_a_stable_id(entry):
    Draft202012Validator.check_schema(entry.document)
    assert entry.document["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert entry.document["$id"] == f"urn:polestar:schema:{entry.name}:{entry.version}"
    assert entry.document["title"]
    assert entry.document["description"]


def test_envelope_schema_describes_the_cloudevents_attributes():
    (envelope,) = [e for e in canonical_schemas() if e.name == "envelope"]
    assert envelope.category is Category.ENVELOPE
    assert {"specversion", "id", "source", "type", "dataschema"} <= set(envelope.document["properties"])


class Hue(StrEnum):
    """Colours, for a test."""

    RED = "red"
    BLUE = "blue"


class Widget(BaseModel):
    """A widget that says where it belongs in the dictionary."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"pole_category": "Objects"})

    name: str = Field(
        min_length=1, max_length=20, pattern=r"^[a-z|]+$", description="Its name.", examples=["w"]
    )
    hue: Hue = Field(description="Its colour.")


class Gadget(BaseModel):
    """A gadget that names its category as a class attribute."""

    pole_category: ClassVar[str] = "events"
    widget: Widget


def test_generator_follows_whatever_is_registered():
    files = render_docs({"widget": Widget, "gadget": Gadget})
    assert set(files) == {
        "schemas/widget.schema.json",
        "schemas/gadget.schema.json",
        "data-dictionary/widget.md",
        "data-dictionary/gadget.md",
        "data-dictionary/index.md",
        "data-dictionary/code-lists.md",
    }
    index = files["data-dictionary/index.md"]
    assert index.index("## Objects") < index.index("[Widget](widget.md)") < index.index("## Events")
    assert "[Gadget](gadget.md)" in index.split("## Events")[1]
    widget_page = files["data-dictionary/widget.md"]
    row = "| `name` | string | yes | Its name.<br>Constraints: 1 to 20 characters; pattern `^[a-z\\|]+$`."
    assert row in widget_page
    assert "[Hue](code-lists.md#hue)" in widget_page
    assert "[Widget](widget.md)" in files["data-dictionary/gadget.md"]
    assert "| `red` |" in files["data-dictionary/code-lists.md"]
    assert "pole_category" not in files["schemas/widget.schema.json"]


def test_export_removes_pages_of_schemas_no_longer_registered(tmp_path):
    write_docs(tmp_path, {"widget": Widget, "gadget": Gadget})
    (tmp_path / "data-dictionary" / "README.txt").write_text("not generated", encoding="utf-8")
    write_docs(tmp_path, {"widget": Widget})
    assert not (tmp_path / "schemas" / "gadget.schema.json").exists()
    assert not (tmp_path / "data-dictionary" / "gadget.md").exists()
    assert (tmp_path / "data-dictionary" / "README.txt").exists()


# --- Example instances ------------------------------------------------------------------------------
# examples/pole/*.json must be valid and examples/pole/invalid/*.json invalid. A file is either
# {"schema": NAME, "instance": {...}} or the bare instance named NAME.json / NAME.<anything>.json.
# examples/pole/invalid/model-only/ holds invalid examples that only the Python model can refuse
# (check digits, cross-field rules): the JSON Schema is not expected to reject those.

EXAMPLES = REPO / "examples" / "pole"


def load_example(path):
    document = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(document, dict) and set(document) == {"schema", "instance"}:
        return document["schema"], document["instance"]
    return path.name.split(".", 1)[0], document


def examples(folder):
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def validator_for(name):
    schemas = {entry.name: entry.document for entry in canonical_schemas()}
    assert name in schemas, f"no canonical schema named {name!r}; known: {sorted(schemas)}"
    return Draft202012Validator(schemas[name], format_checker=Draft202012Validator.FORMAT_CHECKER)


def skip_if_none(paths, what):
    if not paths:
        pytest.skip(f"no {what} under {EXAMPLES.relative_to(REPO)} yet")


VALID = examples(EXAMPLES)
INVALID_BY_SCHEMA = examples(EXAMPLES / "invalid")
INVALID_BY_MODEL = [*INVALID_BY_SCHEMA, *examples(EXAMPLES / "invalid" / "model-only")]


@pytest.mark.parametrize("path", VALID or [None], ids=lambda p: p.name if p else "none")
def test_example_instances_pass_the_exported_schema_and_the_model(path):
    skip_if_none(VALID, "valid examples")
    name, instance = load_example(path)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator_for(name).iter_errors(instance)]
    assert not errors, f"{path.name} fails {name}.schema.json:\n" + "\n".join(errors)
    CANONICAL_MODELS[name].model_validate(instance)


@pytest.mark.parametrize("path", INVALID_BY_SCHEMA or [None], ids=lambda p: p.name if p else "none")
def test_invalid_examples_are_rejected_by_the_exported_schema(path):
    skip_if_none(INVALID_BY_SCHEMA, "invalid examples")
    name, instance = load_example(path)
    assert not validator_for(name).is_valid(instance), (
        f"{path.name} passes {name}.schema.json: the rule it breaks lives only in Python; express it in the "
        "schema, or move the file to examples/pole/invalid/model-only/"
    )


@pytest.mark.parametrize("path", INVALID_BY_MODEL or [None], ids=lambda p: p.name if p else "none")
def test_invalid_examples_are_rejected_by_the_model(path):
    skip_if_none(INVALID_BY_MODEL, "invalid examples")
    name, instance = load_example(path)
    with pytest.raises(ValueError):  # pydantic's ValidationError is a ValueError
        CANONICAL_MODELS[name].model_validate(instance)
