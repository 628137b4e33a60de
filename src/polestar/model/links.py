"""Links: typed relationships between entities, carrying a role, dates and their own provenance.

A link reads from the participant to what it takes part in: *person* is
*suspect* in *crime*; *person* is *driver* of *vehicle*; *person* is *resident*
at *location*; *location* is *scene* of *incident*. One person plays many roles
through many links, and a link is a record in its own right, with its own id,
provenance, marking and version.
"""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import Field, model_validator

from polestar.model.codes import CodeList, EntityType
from polestar.model.common import Entity, EntityRef, Text
from polestar.model.timeutil import UtcDateTime


class LinkRole(CodeList):
    """The part the ``from`` entity plays in the ``to`` entity. Defined by Polestar."""

    SUSPECT = "suspect", "Person suspected of the crime or incident."
    VICTIM = "victim", "Person who suffered the crime or incident."
    WITNESS = "witness", "Person who saw or heard something relevant."
    REPORTING_PERSON = "reporting-person", "Person who reported it."
    ARRESTING_OFFICER = "arresting-officer", "Officer who made the arrest."
    OFFICER = "officer", "Officer otherwise involved (attending, searching, interviewing)."
    DETAINEE = "detainee", "Person held in the custody episode or arrested."
    SUBJECT = "subject", "Person or object searched, subject of force or of intelligence."
    DRIVER = "driver", "Person driving the vehicle."
    PASSENGER = "passenger", "Person travelling in the vehicle."
    KEEPER = "keeper", "Registered keeper of the vehicle."
    OWNER = "owner", "Owner of the object."
    USER = "user", "Person using the phone or other object."
    OCCUPANT = "occupant", "Person present at the location."
    RESIDENT = "resident", "Person who lives at the location."
    ASSOCIATE = "associate", "Person associated with another person."
    FAMILY = "family", "Family member of another person."
    SEIZED = "seized", "Object seized in the event."
    FOUND = "found", "Object found in or at the event or location."
    STOLEN = "stolen", "Object stolen in the crime."
    INVOLVED = "involved", "Object or person involved, where no more specific role fits."
    SCENE = "scene", "Location where the event happened."
    CUSTODY_SUITE = "custody-suite", "Location where the person is detained."
    HOME_ADDRESS = "home-address", "Location that is the person's home address."
    RELATED = "related", "Event related to another event (call to incident, incident to crime)."


_PERSON_ROLES = frozenset(
    {
        LinkRole.SUSPECT, LinkRole.VICTIM, LinkRole.WITNESS, LinkRole.REPORTING_PERSON,
        LinkRole.ARRESTING_OFFICER, LinkRole.OFFICER, LinkRole.DETAINEE, LinkRole.DRIVER,
        LinkRole.PASSENGER, LinkRole.KEEPER, LinkRole.OWNER, LinkRole.USER, LinkRole.OCCUPANT,
        LinkRole.RESIDENT, LinkRole.ASSOCIATE, LinkRole.FAMILY,
    }
)  # fmt: skip

ROLE_ENDS: dict[LinkRole, tuple[frozenset[EntityType] | None, frozenset[EntityType] | None]] = {
    role: (frozenset({EntityType.PERSON}), None) for role in _PERSON_ROLES
}
"""For a role, the kinds of entity allowed at the ``from`` and ``to`` ends (None: any)."""
_VEHICLE = frozenset({EntityType.VEHICLE})
_LOCATION = frozenset({EntityType.LOCATION})
_EVENTS = frozenset(t for t in EntityType if t.is_event)
_OBJECTS = frozenset(t for t in EntityType if t.is_object)
ROLE_ENDS.update(
    {
        LinkRole.DRIVER: (frozenset({EntityType.PERSON}), _VEHICLE),
        LinkRole.PASSENGER: (frozenset({EntityType.PERSON}), _VEHICLE),
        LinkRole.KEEPER: (frozenset({EntityType.PERSON}), _VEHICLE),
        LinkRole.OCCUPANT: (frozenset({EntityType.PERSON}), _LOCATION | _VEHICLE),
        LinkRole.RESIDENT: (frozenset({EntityType.PERSON}), _LOCATION),
        LinkRole.HOME_ADDRESS: (_LOCATION, frozenset({EntityType.PERSON})),
        LinkRole.ASSOCIATE: (frozenset({EntityType.PERSON}), frozenset({EntityType.PERSON})),
        LinkRole.FAMILY: (frozenset({EntityType.PERSON}), frozenset({EntityType.PERSON})),
        LinkRole.SEIZED: (_OBJECTS, _EVENTS),
        LinkRole.FOUND: (_OBJECTS, _EVENTS | _LOCATION),
        LinkRole.STOLEN: (_OBJECTS, frozenset({EntityType.CRIME})),
        LinkRole.SCENE: (_LOCATION, _EVENTS),
        LinkRole.CUSTODY_SUITE: (_LOCATION, frozenset({EntityType.CUSTODY_EPISODE})),
        LinkRole.RELATED: (_EVENTS, _EVENTS),
    }
)


class Link(Entity):
    """A typed relationship from one entity to another, e.g. person -suspect-> crime."""

    schema_name: ClassVar[str] = "link"

    role: LinkRole = Field(description="The part ``from`` plays in ``to``.", examples=["suspect"])
    from_ref: EntityRef = Field(description="The participant.", examples=[{"type": "person", "id": "p-1"}])
    to_ref: EntityRef = Field(description="What it takes part in.", examples=[{"type": "crime", "id": "c-1"}])
    valid_from: UtcDateTime | None = Field(default=None, description="When the relationship began (UTC).")
    valid_to: UtcDateTime | None = Field(default=None, description="When it ended (UTC); open if absent.")
    notes: Text | None = None

    @model_validator(mode="after")
    def _ends_fit_role(self) -> Self:
        if self.from_ref == self.to_ref:
            raise ValueError("a link cannot join an entity to itself")
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError("valid_from is after valid_to")
        allowed_from, allowed_to = ROLE_ENDS.get(self.role, (None, None))
        if allowed_from is not None and self.from_ref.type not in allowed_from:
            raise ValueError(f"a {self.role.value!r} link cannot start at a {self.from_ref.type.value}")
        if allowed_to is not None and self.to_ref.type not in allowed_to:
            raise ValueError(f"a {self.role.value!r} link cannot end at a {self.to_ref.type.value}")
        return self
