"""Vehicle search keys: one row per vehicle record, beside the store's tables.

``search_vehicle_keys`` holds the registration mark normalised (upper case,
letters and digits only) and reversed, the make and model normalised (upper
case, single spaces), the DVLA colour code, and the values as recorded for
showing. Like the person keys it is derived data keyed by the store's record
id: ``PlaceIndex`` refreshes a vehicle's row whenever it refreshes the
vehicle's other keys (after every apply, and in ``rebuild``), so it is created
with ``create_all`` rather than migrated.

How the indexes answer a registration pattern (``search.vehicles``):

* ``AB12CDE``: equality on ``mark``.
* ``AB12*``, ``AB1?CDE``: a range on ``mark`` from the literal characters before
  the first wildcard, the whole pattern checked on each row in the range.
* ``*CDE``, ``A?12CDE``: the same range on ``mark_reversed`` from the literal
  characters after the last wildcard.
* ``?B12CD?``: the same range on ``mark_tail`` (the mark without its first
  character) from the literal characters after a single leading ``?``, the
  commonest miss (the first letter of the plate).
* ``*12C*``: no range. SQLite walks the mark index in order until it has
  ``limit`` matches; PostgreSQL reads a trigram index (``pg_trgm``, GIN) made
  beside the table when the extension is there or can be installed
  (``create_trigram_index``), else scans.

Whichever of these ranges rests on the most literal characters is used.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Index, MetaData, String, Table, delete, event, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

metadata = MetaData()

MARK_LENGTH = 16
TEXT_LENGTH = 64

# Byte order on both databases, so that a range on a prefix is exactly the marks starting with it
# (PostgreSQL's default collation may order by language rules instead).
_Mark = String(MARK_LENGTH).with_variant(String(MARK_LENGTH, collation="C"), "postgresql")

vehicle_keys = Table(
    "search_vehicle_keys",
    metadata,
    Column("vehicle_id", String(128), primary_key=True, comment="Store record id"),
    Column("mark", _Mark, nullable=False, comment="Mark upper case, letters and digits only; '' if none"),
    Column("mark_reversed", _Mark, nullable=False, comment="The mark backwards, for suffix patterns"),
    Column("mark_tail", _Mark, nullable=False, comment="The mark without its first character"),
    Column("make_key", String(TEXT_LENGTH), nullable=False, comment="Make upper case, single spaces"),
    Column("model_key", String(TEXT_LENGTH), nullable=False, comment="Model upper case, single spaces"),
    Column("colour", String(16), nullable=False, comment="DVLA colour code; '' if not known"),
    Column("registration", String(32), nullable=True, comment="The mark as shown on the plate"),
    Column("make", String(TEXT_LENGTH), nullable=True, comment="Make as recorded"),
    Column("model", String(TEXT_LENGTH), nullable=True, comment="Model as recorded"),
)
# vehicle_id last in each, so that ties on the mark come back in one order on both databases and
# PostgreSQL can answer from the index alone. The make, model and colour indexes end with the
# mark so that a filter without a registration reads its first page in order, without a sort.
Index("ix_search_vehicle_mark", vehicle_keys.c.mark, vehicle_keys.c.vehicle_id)
Index("ix_search_vehicle_mark_reversed", vehicle_keys.c.mark_reversed, vehicle_keys.c.vehicle_id)
Index("ix_search_vehicle_mark_tail", vehicle_keys.c.mark_tail, vehicle_keys.c.vehicle_id)
Index(
    "ix_search_vehicle_make",
    vehicle_keys.c.make_key,
    vehicle_keys.c.colour,
    vehicle_keys.c.mark,
    vehicle_keys.c.vehicle_id,
)
Index(
    "ix_search_vehicle_model",
    vehicle_keys.c.model_key,
    vehicle_keys.c.colour,
    vehicle_keys.c.mark,
    vehicle_keys.c.vehicle_id,
)
Index("ix_search_vehicle_colour", vehicle_keys.c.colour, vehicle_keys.c.mark, vehicle_keys.c.vehicle_id)

TRIGRAM_INDEX = "ix_search_vehicle_mark_trigrams"
"""PostgreSQL only: a ``pg_trgm`` GIN index on ``mark``, for contains patterns (``*12C*``)."""


TRIGRAM_SCHEMA = "public"
"""Where ``pg_trgm`` is installed when it is not there yet: outside any one hub's schema."""


def create_trigram_index(conn: Connection) -> bool:
    """Make ``TRIGRAM_INDEX`` on PostgreSQL (installing ``pg_trgm`` if allowed); False if it cannot be.

    Without it a contains pattern at a million vehicles took ~80 ms (p50) on
    PostgreSQL, which walks the mark index or scans; with it ~2 ms. An installed
    ``pg_trgm`` is used wherever it is; otherwise it is installed into
    ``public`` if the role may (``pg_trgm`` is trusted since PostgreSQL 13), never
    into the hub's own schema: an extension there would be dropped with that
    schema, and with it every trigram index any other schema built on it. Where
    it is neither there nor installable, search still works, scanning. Made when
    the table is created (``create_all``); a table made before this index
    existed gains it on ``create_trigram_index``.
    """
    if conn.dialect.name != "postgresql":
        return False
    schema = _trigram_schema(conn)
    if schema is None:
        try:
            with conn.begin_nested():
                conn.execute(text(f"CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA {TRIGRAM_SCHEMA}"))
        except DBAPIError as exc:  # not installable here, or installed meanwhile by another session
            log.warning("pg_trgm not installed, vehicle contains patterns will scan: %s", exc.orig)
        schema = _trigram_schema(conn)
    if schema is None:
        return False
    quote = conn.dialect.identifier_preparer
    # The operator class is named with the extension's schema: it may be outside the search path.
    conn.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON {quote.format_table(vehicle_keys)} "
            f"USING gin (mark {quote.quote_schema(schema)}.gin_trgm_ops)"
        )
    )
    return True


def _trigram_schema(conn: Connection) -> str | None:
    """The schema ``pg_trgm`` is installed in, or None."""
    found = conn.execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"
        )
    ).scalar()
    return None if found is None else str(found)


@event.listens_for(vehicle_keys, "after_create")
def _trigrams(target: Table, connection: Connection, **kw: Any) -> None:
    create_trigram_index(connection)


_NOT_MARK = re.compile(r"[^A-Z0-9]")


def mark_key(mark: str | None) -> str:
    """A mark as the keys hold it: upper case, letters and digits only."""
    return _NOT_MARK.sub("", (mark or "").upper())[:MARK_LENGTH]


def text_key(value: str | None) -> str:
    """A make or model as the keys hold it: upper case, runs of spaces made one."""
    return " ".join((value or "").upper().split())[:TEXT_LENGTH]


def vehicle_row(vehicle_id: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """The key row of one vehicle document (``Vehicle.model_dump(mode="json")``)."""
    registration = document.get("registration") or {}
    mark = mark_key(registration.get("mark"))
    make, model = document.get("make"), document.get("model")
    return {
        "vehicle_id": vehicle_id,
        "mark": mark,
        "mark_reversed": mark[::-1],
        "mark_tail": mark[1:],
        "make_key": text_key(make),
        "model_key": text_key(model),
        "colour": str(document.get("colour") or "").lower()[:16],
        "registration": (registration.get("display") or registration.get("mark") or None),
        "make": make[:TEXT_LENGTH] if make else None,
        "model": model[:TEXT_LENGTH] if model else None,
    }


def put_vehicle_keys(conn: Connection, ids: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    """Replace the rows of ``ids`` with ``rows`` (in ``conn``'s transaction); rows written.

    An id without a row loses its keys (a record gone, or no longer a vehicle).
    """
    conn.execute(delete(vehicle_keys).where(vehicle_keys.c.vehicle_id.in_(list(ids))))
    values = list(rows)
    if values:
        conn.execute(vehicle_keys.insert(), values)
    return len(values)
