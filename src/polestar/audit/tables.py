"""The audit tables, as SQLAlchemy Core definitions shared by SQLite and PostgreSQL.

``audit_entries`` holds the leaves (what the tree hashes) and index columns
that are either readable by design (who, which system, which purpose, when) or
absent: subjects are indexed only in ``audit_entry_subjects``, by an HMAC
pseudonym. ``audit_subject_keys`` is kept apart from the log so erasing a
subject is deleting one of its rows' key, and nothing the tree covers.
``audit_intents`` and ``audit_entry_keys`` carry the durability seam
(``polestar.audit.intents``); like the subject index, neither is covered by the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

# SQLite makes an INTEGER PRIMARY KEY the rowid: the fastest ordered key it has.
Seq = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True, slots=True)
class AuditTables:
    """The audit tables, bound to one ``MetaData`` (and schema)."""

    metadata: MetaData
    entries: Table
    subjects: Table
    heads: Table
    keys: Table
    intents: Table
    entry_keys: Table

    @classmethod
    def define(cls, schema: str | None = None) -> AuditTables:
        """Define the tables in ``schema`` (default: the search path, or SQLite's main database)."""
        md = MetaData(schema=schema)
        entries = Table(
            "audit_entries",
            md,
            Column("seq", Seq, primary_key=True, autoincrement=False, comment="0, 1, 2 ... no gaps"),
            Column("leaf", LargeBinary, nullable=False, comment="The bytes the Merkle tree hashes"),
            Column("leaf_hash", LargeBinary, nullable=False, comment="SHA-256(0x00 || leaf)"),
            Column("seal", LargeBinary, nullable=False, comment="HMAC of leaf_hash, installation key"),
            Column("at_us", BigInteger, nullable=False, comment="Microseconds since 1970, UTC"),
            Column("operation", String(32), nullable=False),
            Column("actor", String(256), nullable=False),
            Column("device", String(256), nullable=True),
            Column("service", String(256), nullable=False),
            Column("purpose", String(500), nullable=True),
            Column("correlation_id", String(256), nullable=True),
        )
        Index("ix_audit_entries_at", entries.c.at_us)
        Index("ix_audit_entries_actor", entries.c.actor, entries.c.seq)
        Index("ix_audit_entries_service", entries.c.service, entries.c.seq)
        Index("ix_audit_entries_purpose", entries.c.purpose, entries.c.seq)
        Index("ix_audit_entries_correlation", entries.c.correlation_id)
        subjects = Table(
            "audit_entry_subjects",
            md,
            Column("pseudonym", LargeBinary, primary_key=True, comment="HMAC of the subject id"),
            Column("seq", BigInteger, primary_key=True),
        )
        heads = Table(
            "audit_heads",
            md,
            Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
            Column("timestamp_ms", BigInteger, nullable=False),
            Column("root_hash", LargeBinary, nullable=False),
            Column("signature", LargeBinary, nullable=False),
            Column("log_id", LargeBinary, nullable=False),
            Column("checkpoint", Boolean, nullable=False, default=False),
            Column("frontier", LargeBinary, nullable=False, comment="Compact range at tree_size (a cache)"),
        )
        keys = Table(
            "audit_subject_keys",
            md,
            Column("key_id", LargeBinary, primary_key=True, comment="Random; what leaves name"),
            Column("pseudonym", LargeBinary, nullable=True, unique=True, comment="NULL once erased"),
            Column("key", LargeBinary, nullable=True, comment="AES-256 key; NULL once erased"),
            Column("created_at_us", BigInteger, nullable=False),
            Column("erased_at_us", BigInteger, nullable=True),
        )
        # The durability seam (``intents.py``): entries promised inside a caller's own transaction,
        # and the caller-supplied key of every entry appended under one, so none is logged twice.
        intents = Table(
            "audit_intents",
            md,
            Column("intent_key", String(256), primary_key=True, comment="The caller's idempotency key"),
            Column("entry", Text, nullable=False, comment="The AuditEntry as JSON, until appended"),
            Column("created_at_us", BigInteger, nullable=False),
            Column("problem", String(1000), nullable=True, comment="Why it cannot be appended (skipped)"),
        )
        Index("ix_audit_intents_created", intents.c.created_at_us)
        entry_keys = Table(
            "audit_entry_keys",
            md,
            Column("intent_key", String(256), primary_key=True),
            Column("seq", BigInteger, nullable=False, comment="The entry appended under this key"),
        )
        return cls(md, entries, subjects, heads, keys, intents, entry_keys)
