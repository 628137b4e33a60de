"""Generate the published documents from the canonical model: JSON Schema and the data dictionary.

``render_docs()`` returns every file as text, keyed by its path under the
output folder (``schemas/person.schema.json``, ``data-dictionary/person.md``),
the same on every run. ``write_docs(out)`` writes them and removes generated
files of schemas that are gone; ``stale_docs(out)`` says which files differ.
The generator walks each model's JSON Schema, so it follows whatever is in
``polestar.model.registry.CANONICAL_MODELS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel

from polestar.docs_gen.catalogue import CanonicalSchema, Category, canonical_schemas, category_of
from polestar.docs_gen.markdown import CODE_LISTS_PAGE, code_lists_page, entity_page, index_page, page_name

SCHEMAS_DIR = "schemas"
DICTIONARY_DIR = "data-dictionary"
_GENERATED_PATTERNS = {SCHEMAS_DIR: "*.schema.json", DICTIONARY_DIR: "*.md"}

__all__ = [
    "DICTIONARY_DIR",
    "SCHEMAS_DIR",
    "CanonicalSchema",
    "Category",
    "canonical_schemas",
    "category_of",
    "render_docs",
    "stale_docs",
    "write_docs",
]


def render_docs(models: Mapping[str, type[BaseModel]] | None = None) -> dict[str, str]:
    """Every generated file's text by relative path, sorted; ``models`` defaults to the registry."""
    entries = canonical_schemas(models)
    pages_by_title = {entry.title: page_name(entry) for entry in entries}
    files = {f"{SCHEMAS_DIR}/{entry.name}.schema.json": entry.to_json() for entry in entries}
    files.update({f"{DICTIONARY_DIR}/{page_name(e)}": entity_page(e, pages_by_title) for e in entries})
    files[f"{DICTIONARY_DIR}/index.md"] = index_page(entries)
    files[f"{DICTIONARY_DIR}/{CODE_LISTS_PAGE}"] = code_lists_page(entries)
    return dict(sorted(files.items()))


def _existing(out: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder, pattern in _GENERATED_PATTERNS.items():
        for path in sorted((out / folder).glob(pattern)):
            found[f"{folder}/{path.name}"] = path
    return found


def write_docs(out: Path, models: Mapping[str, type[BaseModel]] | None = None) -> dict[str, str]:
    """Write every generated file under ``out`` and delete generated files no schema produces now."""
    files = render_docs(models)
    for relative, path in _existing(out).items():
        if relative not in files:
            path.unlink()
    for relative, text in files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    return files


def stale_docs(out: Path, models: Mapping[str, type[BaseModel]] | None = None) -> list[str]:
    """What differs between ``out`` and what the models generate: missing, changed, extra files."""
    files = render_docs(models)
    existing = _existing(out)
    problems = [f"missing: {relative}" for relative in files if relative not in existing]
    problems += [
        f"changed: {relative}"
        for relative, text in files.items()
        if relative in existing and existing[relative].read_text(encoding="utf-8") != text
    ]
    problems += [f"extra: {relative}" for relative in existing if relative not in files]
    return sorted(problems)
