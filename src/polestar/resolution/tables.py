"""The review queue: pairs the matcher was unsure of, waiting for a person to decide.

Rows hold record ids, a score and the per-field explanation (levels and
weights, never the names compared), so an erasure removes them through the
``resolution`` erasure hook with the subject's other data.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Index, MetaData, String, Table, Text

metadata = MetaData()

reviews = Table(
    "resolution_reviews",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("record_id", String(128), nullable=False, comment="The incoming record"),
    Column("candidate_id", String(128), nullable=False, comment="The record it may be"),
    Column("score", Float, nullable=False, comment="Fellegi-Sunter weight, bits"),
    Column("fields", JSON, nullable=False, comment="Per-field level and weight"),
    Column("status", String(16), nullable=False, comment="pending, merged, rejected"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(256), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("reason", Text, nullable=True),
    Column("merge_id", String(64), nullable=True, comment="store_merges id when merged"),
)
Index("ix_resolution_reviews_status", reviews.c.status, reviews.c.created_at)
Index("ix_resolution_reviews_record", reviews.c.record_id)
Index("ix_resolution_reviews_candidate", reviews.c.candidate_id)
