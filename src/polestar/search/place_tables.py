"""Search keys for locations, events and vehicle identifiers, beside the store's tables.

Like the person keys (``search.tables``) they are derived data, keyed by the
store's record id and rebuilt from ``store_entities`` at any time, so they are
created with ``create_all`` rather than migrated:

* ``search_location_keys``: one row per location: canonical postcode and its
  outward code and sector, the address as normalised text, the point (WGS84
  degrees) and the policing area codes.
* ``search_location_tokens``: one row per location x word of its address, the
  indexed way in for address text typed out of order or in part.
* ``search_event_keys``: one row per event: its kind and when it happened (the
  kind's own time field, e.g. a crime's ``committed_from``, else ``reported_at``).
* ``search_object_keys``: one row per vehicle or location x identifier (VIN,
  registration mark, UPRN), which entity resolution compares on.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, MetaData, String, Table, Text

metadata = MetaData()

location_keys = Table(
    "search_location_keys",
    metadata,
    Column("location_id", String(128), primary_key=True, comment="Store record id"),
    Column("postcode", String(8), nullable=True, comment="Canonical postcode, e.g. SW1A 2AA"),
    Column("outward", String(4), nullable=True, comment="Outward code, e.g. SW1A"),
    Column("sector", String(6), nullable=True, comment="Postcode sector, e.g. SW1A 2"),
    Column("text", Text, nullable=False, comment="Name, address lines, town, description; normalised"),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("force", String(8), nullable=True),
    Column("beat", String(16), nullable=True),
    Column("ward", String(9), nullable=True),
)
Index("ix_search_location_postcode", location_keys.c.postcode)
Index("ix_search_location_sector", location_keys.c.sector)
Index("ix_search_location_outward", location_keys.c.outward)
Index("ix_search_location_point", location_keys.c.latitude, location_keys.c.longitude)
Index("ix_search_location_area", location_keys.c.force, location_keys.c.beat)
Index("ix_search_location_ward", location_keys.c.ward)

location_tokens = Table(
    "search_location_tokens",
    metadata,
    Column("location_id", String(128), primary_key=True, comment="Store record id"),
    Column("token", String(64), primary_key=True, comment="One normalised word of the address"),
)
Index("ix_search_location_token", location_tokens.c.token)

event_keys = Table(
    "search_event_keys",
    metadata,
    Column("event_id", String(128), primary_key=True, comment="Store record id"),
    Column("kind", String(32), nullable=False, comment="The event's schema name: crime, incident..."),
    Column("at", DateTime(timezone=True), nullable=True, comment="When it happened (UTC)"),
)
Index("ix_search_event_kind_at", event_keys.c.kind, event_keys.c.at)
Index("ix_search_event_at", event_keys.c.at)

object_keys = Table(
    "search_object_keys",
    metadata,
    Column("entity_id", String(128), primary_key=True, comment="Store record id"),
    Column("type", String(16), primary_key=True, comment="VIN, MARK or UPRN"),
    Column("value", String(32), nullable=False, comment="Canonical value"),
)
Index("ix_search_object_value", object_keys.c.type, object_keys.c.value)
