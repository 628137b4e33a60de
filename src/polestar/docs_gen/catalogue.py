"""The registered canonical models as JSON Schema documents, each with its URN and POLE category."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from polestar.model.envelope import schema_urn
from polestar.model.registry import CANONICAL_MODELS, MODEL_VERSION

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class Category(StrEnum):
    """The data dictionary's sections, in the order they are listed."""

    PEOPLE = "People"
    OBJECTS = "Objects"
    LOCATIONS = "Locations"
    EVENTS = "Events"
    LINKS = "Links"
    ENVELOPE = "Envelope"
    COMMON = "Common types"


_CATEGORY_BY_MODULE = {
    "people": Category.PEOPLE,
    "objects": Category.OBJECTS,
    "locations": Category.LOCATIONS,
    "links": Category.LINKS,
    "envelope": Category.ENVELOPE,
}


@dataclass(frozen=True)
class CanonicalSchema:
    """One registered model: its schema name, version, category and JSON Schema document."""

    name: str
    model: type[BaseModel]
    version: str
    category: Category
    document: dict[str, Any]

    @property
    def urn(self) -> str:
        """The schema's id, as ``dataschema`` names it: ``urn:polestar:schema:NAME:M.N``."""
        return schema_urn(self.name, self.version)

    @property
    def title(self) -> str:
        """The model's name, e.g. ``Person``."""
        return str(self.document.get("title", self.model.__name__))

    def to_json(self) -> str:
        """The JSON Schema file's text: stable key order, two-space indent, final newline."""
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"


def category_of(model: type[BaseModel]) -> Category:
    """Where a model belongs in the dictionary.

    A model may say so itself (a ``pole_category`` class attribute, or
    ``pole_category`` in its ``json_schema_extra``); otherwise its module
    decides (``polestar.model.people`` is People), and any other entity with a
    ``schema_name`` is an Event, the one POLE kind spread over many modules.
    """
    extra = model.model_config.get("json_schema_extra")
    declared = getattr(model, "pole_category", None) or (
        extra.get("pole_category") if isinstance(extra, Mapping) else None
    )
    if declared is not None:
        return Category(str(declared).capitalize() if str(declared).islower() else str(declared))
    module = model.__module__.rsplit(".", 1)[-1]
    if module in _CATEGORY_BY_MODULE:
        return _CATEGORY_BY_MODULE[module]
    if isinstance(getattr(model, "schema_name", None), str):
        return Category.EVENTS
    return Category.COMMON


def canonical_schemas(models: Mapping[str, type[BaseModel]] | None = None) -> list[CanonicalSchema]:
    """Every registered model (``CANONICAL_MODELS`` by default) as a JSON Schema, sorted by name."""
    registry = CANONICAL_MODELS if models is None else models
    found = []
    for name in sorted(registry):
        model = registry[name]
        version = str(getattr(model, "schema_version", MODEL_VERSION))
        schema = model.model_json_schema(mode="validation")
        schema.pop("pole_category", None)  # a docs hint, not a validation keyword
        document = {"$schema": JSON_SCHEMA_DIALECT, "$id": schema_urn(name, version), **schema}
        found.append(
            CanonicalSchema(
                name=name, model=model, version=version, category=category_of(model), document=document
            )
        )
    return found
