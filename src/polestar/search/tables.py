"""The search keys table, SQLAlchemy Core shared by SQLite and PostgreSQL.

``search_person_keys`` holds one row per name a person is known by (their name,
then each alias), and ``search_person_identifiers`` one per identifier (PNC ID,
CRO number, driving licence...), both keyed by the store's record id, so the store's erasure map
reaches it through the search ``ErasureHook``. The table is derived data: it
lives beside the store's tables and ``SearchIndex.rebuild`` recreates it from
them at any time, so it is created with ``create_all`` rather than migrated.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, MetaData, SmallInteger, String, Table

metadata = MetaData()

person_keys = Table(
    "search_person_keys",
    metadata,
    Column("person_id", String(128), primary_key=True, comment="Store record id"),
    Column("seq", SmallInteger, primary_key=True, autoincrement=False, comment="0 the name, 1.. aliases"),
    Column("given", String(64), nullable=False, comment="Normalised first given name"),
    Column("middle", String(128), nullable=False, comment="Normalised middle names, space-separated"),
    Column("family", String(64), nullable=False, comment="Normalised family name"),
    Column("given_initial", String(1), nullable=False),
    Column("family_initial", String(1), nullable=False),
    Column("given_code", String(16), nullable=False, comment="NYSIIS of the given name"),
    Column("family_code", String(16), nullable=False, comment="NYSIIS of the family name"),
    Column("given_canon", String(64), nullable=False, comment="Formal name of the given name's group"),
    Column("birth_year", SmallInteger, nullable=True),
    Column("birth_month", SmallInteger, nullable=True),
    Column("birth_day", SmallInteger, nullable=True),
    Column("born_earliest", Date, nullable=True, comment="First possible date of birth"),
    Column("born_latest", Date, nullable=True, comment="Last possible date of birth"),
    Column("gender", String(1), nullable=False, comment="ISO/IEC 5218 code; 0 not known"),
    sqlite_with_rowid=False,  # clustered on the key, and every index then carries person_id
)
# Each blocking rule is one seek on one of these; person_id last so that PostgreSQL can answer
# the rule from the index alone (SQLite's WITHOUT ROWID indexes hold the key anyway). The
# names themselves ride along so that a rule can first read which distinct names it would
# bring back, cheaply, and fetch only the records whose names can still score high enough.
Index(
    "ix_search_person_family",
    person_keys.c.family_code,
    person_keys.c.given_initial,
    person_keys.c.given,
    person_keys.c.given_canon,
    person_keys.c.birth_year,
    person_keys.c.person_id,
)
Index(
    "ix_search_person_given",
    person_keys.c.given_canon,
    person_keys.c.birth_year,
    person_keys.c.birth_month,
    person_keys.c.family_initial,
    person_keys.c.person_id,
)
Index(
    "ix_search_person_given_family",
    person_keys.c.given_canon,
    person_keys.c.family_initial,
    person_keys.c.family,
    person_keys.c.person_id,
)
Index(
    "ix_search_person_born",
    person_keys.c.birth_year,
    person_keys.c.birth_month,
    person_keys.c.birth_day,
    person_keys.c.given_initial,
    person_keys.c.family_initial,
    person_keys.c.person_id,
)
Index(
    "ix_search_person_initials",
    person_keys.c.birth_year,
    person_keys.c.given_initial,
    person_keys.c.family_initial,
    person_keys.c.person_id,
)

person_identifiers = Table(
    "search_person_identifiers",
    metadata,
    Column("person_id", String(128), primary_key=True, comment="Store record id"),
    Column("type", String(32), primary_key=True, comment="IdentifierType: PNC, CRO, DRIVING-LICENCE..."),
    Column("value", String(64), primary_key=True, comment="Canonical value, as the model validated it"),
)
Index("ix_search_person_identifier", person_identifiers.c.type, person_identifiers.c.value)
