"""The POLE data dictionary in code: People, Objects, Locations, Events, links and the envelope.

Every name a caller needs is importable from here; the submodules hold one
concept each (``people``, ``objects``, ``locations``, the event modules,
``links``, ``identifiers``, the code lists, the envelope and its evolution).
"""

from polestar.model.catalogue import EVENT_TYPES, EventTypeSpec
from polestar.model.codes import CodeList, EntityType, Gender, IdentifierType, NameType, code_lists
from polestar.model.common import Entity, EntityRef, Officer, PolestarModel, Provenance
from polestar.model.crimes import Arrest, Crime
from polestar.model.custody import CustodyEpisode, CustodyReview
from polestar.model.encounters import StopSearch, UseOfForce
from polestar.model.envelope import Envelope
from polestar.model.event_codes import IncidentGrade, IncidentStatus
from polestar.model.evolution import UPCASTERS, Upcasters, from_envelope, to_envelope
from polestar.model.incidents import (
    INCIDENT_TRANSITIONS,
    Call,
    Incident,
    StatusChange,
    UnitStatusReport,
    can_transition,
)
from polestar.model.links import Link, LinkRole
from polestar.model.locations import Address, Coordinates, Location, PolicingArea
from polestar.model.marking import Classification, ProtectiveMarking
from polestar.model.objects import Document, Drug, Phone, PropertyItem, Quantity, Vehicle, Weapon
from polestar.model.people import (
    Alias,
    DateOfBirth,
    DistinguishingMark,
    EmailContact,
    Person,
    PersonName,
    PhoneContact,
    PhysicalDescription,
)
from polestar.model.registration import RegistrationFormat, VehicleRegistration
from polestar.model.registry import CANONICAL_MODELS, ENTITY_MODELS, MODEL_VERSION, SCHEMA_VERSIONS
from polestar.model.statements import IntelligenceReport, WitnessStatement

__all__ = [
    "CANONICAL_MODELS",
    "ENTITY_MODELS",
    "EVENT_TYPES",
    "INCIDENT_TRANSITIONS",
    "MODEL_VERSION",
    "SCHEMA_VERSIONS",
    "UPCASTERS",
    "Address",
    "Alias",
    "Arrest",
    "Call",
    "Classification",
    "CodeList",
    "Coordinates",
    "Crime",
    "CustodyEpisode",
    "CustodyReview",
    "DateOfBirth",
    "DistinguishingMark",
    "Document",
    "Drug",
    "EmailContact",
    "Entity",
    "EntityRef",
    "EntityType",
    "Envelope",
    "EventTypeSpec",
    "Gender",
    "IdentifierType",
    "Incident",
    "IncidentGrade",
    "IncidentStatus",
    "IntelligenceReport",
    "Link",
    "LinkRole",
    "Location",
    "NameType",
    "Officer",
    "Person",
    "PersonName",
    "Phone",
    "PhoneContact",
    "PhysicalDescription",
    "PolestarModel",
    "PolicingArea",
    "PropertyItem",
    "ProtectiveMarking",
    "Provenance",
    "Quantity",
    "RegistrationFormat",
    "StatusChange",
    "StopSearch",
    "UnitStatusReport",
    "Upcasters",
    "UseOfForce",
    "Vehicle",
    "VehicleRegistration",
    "Weapon",
    "WitnessStatement",
    "can_transition",
    "code_lists",
    "from_envelope",
    "to_envelope",
]
