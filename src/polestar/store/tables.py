"""The store's tables, as SQLAlchemy Core definitions shared by SQLite and PostgreSQL.

==========================  =================================================================
``store_entities``          one row per entity or link: its current document, version, marking
``store_entity_versions``   every alteration: the document after it, changed fields, who, which message
``store_field_provenance``  per field and source system, the value that source last claimed
``store_links``             links projected for traversal: role, both ends (indexed), validity, marking
``store_merges``            who merged which record into which, when and why; unmerge fills the rest
``store_applied_messages``  envelope ids already applied, written in the same transaction as the change
==========================  =================================================================

Every table but the last holds personal data and is keyed by an entity id, so
an erasure reaches all of it from the subject's id (see ``erasure``). The
Alembic migrations in ``migrations/versions`` create exactly these tables; a
test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import postgresql

Json = JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON documents: JSONB on PostgreSQL (indexable later by search), JSON text on SQLite."""

Id = String(128)
"""An entity id (the model's ``EntityId`` is at most 128 characters)."""

Time = DateTime(timezone=True)

VERSION_TABLE = "store_alembic_version"
"""Alembic's version table for the store, named so other components' migrations can share a database."""

metadata = MetaData()

entities = Table(
    "store_entities",
    metadata,
    Column("id", Id, primary_key=True),
    Column("kind", String(64), nullable=False, comment="Schema name: person, vehicle, link..."),
    Column("schema_version", String(16), nullable=False),
    Column("version", Integer, nullable=False, comment="The record's version as its sources number it"),
    Column("document", Json, nullable=False, comment="The current document, as the model dumps it"),
    Column("marking", String(200), nullable=False, comment="Protective marking label"),
    Column("classification_rank", SmallInteger, nullable=False, comment="0 OFFICIAL, 1 SECRET, 2 TOP SECRET"),
    Column("merged_into", Id, nullable=True, comment="Survivor this record was merged into, if any"),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)
Index("ix_store_entities_kind", entities.c.kind)
Index("ix_store_entities_merged_into", entities.c.merged_into)

entity_versions = Table(
    "store_entity_versions",
    metadata,
    Column("entity_id", Id, primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False, comment="1, 2, 3... per entity"),
    Column("version", Integer, nullable=False),
    Column("operation", String(16), nullable=False, comment="created, updated, merged, unmerged"),
    Column("document", Json, nullable=False, comment="The document after the alteration"),
    Column("changed_fields", Json, nullable=False, comment="Top-level fields whose value changed"),
    Column("actor", String(256), nullable=True),
    Column("message_id", String(256), nullable=True, comment="Envelope id that caused it"),
    Column("correlation_id", String(256), nullable=True),
    Column("reason", Text, nullable=True, comment="Why, for merges and unmerges"),
    Column("recorded_at", Time, nullable=False),
)

field_provenance = Table(
    "store_field_provenance",
    metadata,
    Column("entity_id", Id, primary_key=True),
    Column("path", String(128), primary_key=True, comment="Top-level field name"),
    Column("system", String(64), primary_key=True, comment="Source system that claimed the value"),
    Column("value", Json, nullable=False),
    Column("organisation", String(32), nullable=False),
    Column("reference", String(64), nullable=True),
    Column("observed_at", Time, nullable=False, comment="When observed (recorded, if not known)"),
    Column("recorded_at", Time, nullable=False),
    Column("version", Integer, nullable=False),
    Column("marking", String(200), nullable=False),
    Column("message_id", String(256), nullable=True),
)

links = Table(
    "store_links",
    metadata,
    Column("id", Id, ForeignKey("store_entities.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(64), nullable=False),
    Column("from_kind", String(64), nullable=False),
    Column("from_id", Id, nullable=False, comment="As the link names it; merges resolve on read"),
    Column("to_kind", String(64), nullable=False),
    Column("to_id", Id, nullable=False),
    Column("valid_from", Time, nullable=True),
    Column("valid_to", Time, nullable=True),
    Column("marking", String(200), nullable=False),
    Column("classification_rank", SmallInteger, nullable=False),
    Column("system", String(64), nullable=False, comment="Source system of the current version"),
)
Index("ix_store_links_from", links.c.from_id, links.c.role)
Index("ix_store_links_to", links.c.to_id, links.c.role)

merges = Table(
    "store_merges",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("survivor_id", Id, nullable=False),
    Column("merged_id", Id, nullable=False),
    Column("actor", String(256), nullable=False),
    Column("reason", Text, nullable=False),
    Column("merged_at", Time, nullable=False),
    Column("unmerged_at", Time, nullable=True),
    Column("unmerged_by", String(256), nullable=True),
    Column("unmerge_reason", Text, nullable=True),
)
Index("ix_store_merges_survivor", merges.c.survivor_id)
Index("ix_store_merges_merged", merges.c.merged_id)

applied_messages = Table(
    "store_applied_messages",
    metadata,
    Column("message_id", String(256), primary_key=True, comment="Envelope id; no personal data"),
    Column("applied_at", Time, nullable=False),
    Column("outcome", String(16), nullable=False),
)

__all__ = [
    "VERSION_TABLE",
    "applied_messages",
    "entities",
    "entity_versions",
    "field_provenance",
    "links",
    "merges",
    "metadata",
]
