"""The canonical schemas: every model published as JSON Schema and in the data dictionary.

``CANONICAL_MODELS`` maps a schema name (used in ``dataschema`` URNs and in
file names under ``docs/``) to its pydantic model. ``SCHEMA_VERSIONS`` gives
each schema's own ``MAJOR.MINOR`` version; ``MODEL_VERSION`` is the version of
the canonical model as a whole. See ``docs/model-evolution.md`` for how they
change.
"""

from __future__ import annotations

from pydantic import BaseModel

from polestar.errors import SchemaVersionError
from polestar.model.common import Entity
from polestar.model.crimes import Arrest, Crime
from polestar.model.custody import CustodyEpisode
from polestar.model.encounters import StopSearch, UseOfForce
from polestar.model.envelope import Envelope
from polestar.model.incidents import Call, Incident, UnitStatusReport
from polestar.model.links import Link
from polestar.model.locations import Location
from polestar.model.marking import ProtectiveMarking
from polestar.model.objects import Document, Drug, Phone, PropertyItem, Vehicle, Weapon
from polestar.model.people import Person
from polestar.model.statements import IntelligenceReport, WitnessStatement

MODEL_VERSION = "1.0"

ENTITY_MODELS: tuple[type[Entity], ...] = (
    Person,
    Vehicle,
    Phone,
    Weapon,
    Drug,
    PropertyItem,
    Document,
    Location,
    Call,
    Incident,
    Crime,
    Arrest,
    CustodyEpisode,
    StopSearch,
    UseOfForce,
    IntelligenceReport,
    WitnessStatement,
    Link,
)
"""Every POLE entity model, and the link."""

CANONICAL_MODELS: dict[str, type[BaseModel]] = {
    "envelope": Envelope,
    "protective-marking": ProtectiveMarking,
    **{model.schema_name: model for model in ENTITY_MODELS},
    "unit-status-report": UnitStatusReport,
}

SCHEMA_VERSIONS: dict[str, str] = {
    name: getattr(model, "schema_version", MODEL_VERSION) for name, model in CANONICAL_MODELS.items()
}
"""The current ``MAJOR.MINOR`` version of each canonical schema."""


def model_for(name: str) -> type[BaseModel]:
    """The model registered under schema ``name``; ``SchemaVersionError`` if there is none."""
    try:
        return CANONICAL_MODELS[name]
    except KeyError:
        raise SchemaVersionError(f"no canonical schema is named {name!r}") from None


def schema_name_of(model: type[BaseModel]) -> str:
    """The schema name a model is registered under; ``SchemaVersionError`` if it is not registered."""
    for name, registered in CANONICAL_MODELS.items():
        if registered is model:
            return name
    raise SchemaVersionError(f"{model.__name__} is not a canonical model")
