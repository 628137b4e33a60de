"""Read-only questions of the bus database, asked on the reader connection."""

from __future__ import annotations

import logging
import sqlite3

from pydantic import ValidationError

from polestar.bus.contract import BusStats, ConsumerSpec, DeadLetter, GroupStats
from polestar.bus.sqlite.admin import last_sequence, rules_of
from polestar.bus.sqlite.rows import DEAD_LETTER_COLUMNS, StoredMessage, decode_dead_letter, now
from polestar.errors import DeadLetterNotFound

log = logging.getLogger(__name__)


def first_at_or_after(conn: sqlite3.Connection, ts: float) -> int:
    """The first sequence published at or after ``ts`` (past the end if none)."""
    row = conn.execute(
        "SELECT seq FROM messages WHERE published_at >= ? ORDER BY seq LIMIT 1", (ts,)
    ).fetchone()
    return int(row[0]) if row else last_sequence(conn) + 1


def messages_from(conn: sqlite3.Connection, start: int, limit: int) -> list[StoredMessage]:
    """Up to ``limit`` stored messages with sequence ``start`` or later, in order."""
    rows = conn.execute(
        "SELECT seq, subject, pkey, body, published_at FROM messages WHERE seq >= ? ORDER BY seq LIMIT ?",
        (start, limit),
    ).fetchall()
    return [StoredMessage(*row) for row in rows]


def dead_letters(conn: sqlite3.Connection, group: str | None, limit: int) -> list[DeadLetter]:
    """Dead letters, oldest first, optionally of one group."""
    where, args = ("WHERE grp = ?", (group,)) if group is not None else ("", ())
    rows = conn.execute(
        f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters {where} ORDER BY dead_at, id LIMIT ?",  # noqa: S608 - fixed fragments only
        (*args, limit),
    ).fetchall()
    letters = []
    for row in rows:
        try:
            letters.append(decode_dead_letter(row))
        except ValidationError:
            # Parked because it could not be decoded; listing the rest matters more.
            log.warning("dead letter %s holds an undecodable envelope; skipped", row[0])
    return letters


def dead_letter(conn: sqlite3.Connection, dead_letter_id: str) -> DeadLetter:
    """One dead letter, or ``DeadLetterNotFound``."""
    row = conn.execute(
        f"SELECT {DEAD_LETTER_COLUMNS} FROM dead_letters WHERE id = ?",  # noqa: S608 - fixed fragment only
        (dead_letter_id,),
    ).fetchone()
    if row is None:
        raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}")
    return decode_dead_letter(row)


def stats(conn: sqlite3.Connection, engine: str) -> BusStats:
    """Counts for ``polestar bus stats``, read in one snapshot."""
    conn.execute("BEGIN")
    try:
        count, first, size = conn.execute(
            "SELECT count(*), min(seq), coalesce(sum(length(body)), 0) FROM messages"
        ).fetchone()
        last = last_sequence(conn)
        (dead,) = conn.execute("SELECT count(*) FROM dead_letters").fetchone()
        groups = tuple(
            _group_stats(conn, name, cursor, raw)
            for name, cursor, raw in conn.execute(
                "SELECT name, cursor, spec FROM groups ORDER BY name"
            ).fetchall()
        )
    finally:
        conn.execute("COMMIT")
    return BusStats(
        engine=engine,
        messages=count,
        first_sequence=first if first is not None else (last + 1 if last else 0),
        last_sequence=last,
        bytes=size,
        dead_letters=dead,
        groups=groups,
    )


def _group_stats(conn: sqlite3.Connection, group: str, cursor: int, raw_spec: str) -> GroupStats:
    rules = rules_of(ConsumerSpec.model_validate_json(raw_spec))
    if ">" in rules.filters:
        (backlog,) = conn.execute("SELECT count(*) FROM messages WHERE seq > ?", (cursor,)).fetchone()
    else:
        subjects = conn.execute("SELECT subject FROM messages WHERE seq > ?", (cursor,)).fetchall()
        backlog = sum(1 for (subject,) in subjects if rules.matches(subject))
    queued, in_flight, redelivering = conn.execute(
        """
        SELECT count(*) FILTER (WHERE attempt = 0),
               count(*) FILTER (WHERE token IS NOT NULL AND ready_at > ?),
               count(*) FILTER (WHERE attempt > 0 AND NOT (token IS NOT NULL AND ready_at > ?))
        FROM pending WHERE grp = ?
        """,
        (now(), now(), group),
    ).fetchone()
    (dead,) = conn.execute("SELECT count(*) FROM dead_letters WHERE grp = ?", (group,)).fetchone()
    return GroupStats(
        group=group,
        pending=backlog + queued,
        in_flight=in_flight,
        redelivering=redelivering,
        dead_letters=dead,
        last_sequence=cursor,
    )
