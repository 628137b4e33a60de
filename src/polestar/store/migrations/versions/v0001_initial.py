"""The store's first tables: entities, history, field provenance, links, merges, applied messages.

Revision ID: 0001
Revises:
Create Date: 2026-05-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
ID = sa.String(128)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "store_entities",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False, comment="Schema name: person, vehicle, link..."),
        sa.Column("schema_version", sa.String(16), nullable=False),
        sa.Column(
            "version", sa.Integer, nullable=False, comment="The record's version as its sources number it"
        ),
        sa.Column("document", JSON, nullable=False, comment="The current document, as the model dumps it"),
        sa.Column("marking", sa.String(200), nullable=False, comment="Protective marking label"),
        sa.Column(
            "classification_rank",
            sa.SmallInteger,
            nullable=False,
            comment="0 OFFICIAL, 1 SECRET, 2 TOP SECRET",
        ),
        sa.Column("merged_into", ID, nullable=True, comment="Survivor this record was merged into, if any"),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
    )
    op.create_index("ix_store_entities_kind", "store_entities", ["kind"])
    op.create_index("ix_store_entities_merged_into", "store_entities", ["merged_into"])
    op.create_table(
        "store_entity_versions",
        sa.Column("entity_id", ID, primary_key=True),
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False, comment="1, 2, 3... per entity"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("operation", sa.String(16), nullable=False, comment="created, updated, merged, unmerged"),
        sa.Column("document", JSON, nullable=False, comment="The document after the alteration"),
        sa.Column("changed_fields", JSON, nullable=False, comment="Top-level fields whose value changed"),
        sa.Column("actor", sa.String(256), nullable=True),
        sa.Column("message_id", sa.String(256), nullable=True, comment="Envelope id that caused it"),
        sa.Column("correlation_id", sa.String(256), nullable=True),
        sa.Column("reason", sa.Text, nullable=True, comment="Why, for merges and unmerges"),
        sa.Column("recorded_at", TIME, nullable=False),
    )
    op.create_table(
        "store_field_provenance",
        sa.Column("entity_id", ID, primary_key=True),
        sa.Column("path", sa.String(128), primary_key=True, comment="Top-level field name"),
        sa.Column("system", sa.String(64), primary_key=True, comment="Source system that claimed the value"),
        sa.Column("value", JSON, nullable=False),
        sa.Column("organisation", sa.String(32), nullable=False),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("observed_at", TIME, nullable=False, comment="When observed (recorded, if not known)"),
        sa.Column("recorded_at", TIME, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("marking", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(256), nullable=True),
    )
    op.create_table(
        "store_links",
        sa.Column("id", ID, sa.ForeignKey("store_entities.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("from_kind", sa.String(64), nullable=False),
        sa.Column("from_id", ID, nullable=False, comment="As the link names it; merges resolve on read"),
        sa.Column("to_kind", sa.String(64), nullable=False),
        sa.Column("to_id", ID, nullable=False),
        sa.Column("valid_from", TIME, nullable=True),
        sa.Column("valid_to", TIME, nullable=True),
        sa.Column("marking", sa.String(200), nullable=False),
        sa.Column("classification_rank", sa.SmallInteger, nullable=False),
        sa.Column("system", sa.String(64), nullable=False, comment="Source system of the current version"),
    )
    op.create_index("ix_store_links_from", "store_links", ["from_id", "role"])
    op.create_index("ix_store_links_to", "store_links", ["to_id", "role"])
    op.create_table(
        "store_merges",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("survivor_id", ID, nullable=False),
        sa.Column("merged_id", ID, nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("merged_at", TIME, nullable=False),
        sa.Column("unmerged_at", TIME, nullable=True),
        sa.Column("unmerged_by", sa.String(256), nullable=True),
        sa.Column("unmerge_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_store_merges_survivor", "store_merges", ["survivor_id"])
    op.create_index("ix_store_merges_merged", "store_merges", ["merged_id"])
    op.create_table(
        "store_applied_messages",
        sa.Column("message_id", sa.String(256), primary_key=True, comment="Envelope id; no personal data"),
        sa.Column("applied_at", TIME, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    """Drop the tables (and everything in them)."""
    for index, table in (
        ("ix_store_merges_merged", "store_merges"),
        ("ix_store_merges_survivor", "store_merges"),
        ("ix_store_links_to", "store_links"),
        ("ix_store_links_from", "store_links"),
        ("ix_store_entities_merged_into", "store_entities"),
        ("ix_store_entities_kind", "store_entities"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "store_applied_messages",
        "store_merges",
        "store_links",
        "store_field_provenance",
        "store_entity_versions",
        "store_entities",
    ):
        op.drop_table(table)
