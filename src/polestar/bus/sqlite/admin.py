"""Groups, rewinds, dead-letter handling and retention, run on the writer thread."""

from __future__ import annotations

import sqlite3

from polestar.bus.contract import ConsumerSpec, DeliverPolicy, PublishAck, RetentionPolicy
from polestar.bus.sqlite.publishing import trim_to_count
from polestar.bus.sqlite.rows import BLOCKED, now
from polestar.bus.sqlite.rules import GroupRules
from polestar.bus.sqlite.settling import ensure_heads, expire_exhausted, promote_next
from polestar.errors import BusError, DeadLetterNotFound


def rules_of(spec: ConsumerSpec) -> GroupRules:
    """The parts of a consumer spec a claim needs."""
    return GroupRules(
        group=spec.group,
        filters=spec.subjects,
        ordered=spec.ordered_by_key,
        ack_wait=spec.ack_wait,
        max_attempts=spec.max_attempts,
    )


def stored_rules(conn: sqlite3.Connection, group: str) -> tuple[GroupRules, int]:
    """The group's rules as last subscribed, and its cursor; ``BusError`` if unknown."""
    row = conn.execute("SELECT spec, cursor FROM groups WHERE name = ?", (group,)).fetchone()
    if row is None:
        raise BusError(f"consumer group {group!r} does not exist; subscribe to create it")
    return rules_of(ConsumerSpec.model_validate_json(row[0])), row[1]


def last_sequence(conn: sqlite3.Connection) -> int:
    """The highest sequence ever stored, even if retention has since removed it."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
    return int(row[0]) if row else 0


def join_group(conn: sqlite3.Connection, spec: ConsumerSpec) -> None:
    """Create the group at its starting point, or record its latest spec."""
    raw = spec.model_dump_json()
    row = conn.execute("SELECT spec FROM groups WHERE name = ?", (spec.group,)).fetchone()
    if row is None:
        cursor = 0 if spec.deliver is DeliverPolicy.ALL else last_sequence(conn)
        conn.execute(
            "INSERT INTO groups (name, cursor, spec, created_at) VALUES (?, ?, ?, ?)",
            (spec.group, cursor, raw, now()),
        )
    elif row[0] != raw:
        conn.execute("UPDATE groups SET spec = ? WHERE name = ?", (raw, spec.group))


def rewind(conn: sqlite3.Connection, group: str, from_sequence: int | None, from_ts: float | None) -> None:
    """Move ``group`` back: it receives again everything from the start point on."""
    rules, _ = stored_rules(conn, group)
    if from_sequence is not None:
        start = max(1, from_sequence)
    elif from_ts is not None:
        # No index on published_at: a rewind is an operator's action, and the scan stops
        # at the first message new enough, which keeps every publish one index cheaper.
        row = conn.execute(
            "SELECT seq FROM messages WHERE published_at >= ? ORDER BY seq LIMIT 1", (from_ts,)
        ).fetchone()
        start = row[0] if row else last_sequence(conn) + 1
    else:
        start = 1
    conn.execute("DELETE FROM pending WHERE grp = ? AND seq >= ?", (group, start))
    conn.execute("UPDATE groups SET cursor = ? WHERE name = ?", (start - 1, group))
    if rules.ordered:
        ensure_heads(conn, group, now())


def replay_dead_letter(conn: sqlite3.Connection, dead_letter_id: str) -> PublishAck:
    """Put a dead letter back in its group's queue as a fresh delivery, and remove it."""
    row = conn.execute(
        "SELECT grp, seq, pkey, subject, body, published_at FROM dead_letters WHERE id = ?", (dead_letter_id,)
    ).fetchone()
    if row is None:
        raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}")
    group, seq, key, subject, body, published_at = row
    rules, cursor = stored_rules(conn, group)
    conn.execute("DELETE FROM dead_letters WHERE id = ?", (dead_letter_id,))
    already = conn.execute("SELECT 1 FROM pending WHERE grp = ? AND seq = ?", (group, seq)).fetchone()
    if seq > cursor or already:
        return PublishAck(sequence=seq)  # the group will receive it anyway (it was rewound)
    at = now()
    keyed = rules.ordered and key is not None
    # The body is copied so the replay survives the message leaving the stream.
    conn.execute(
        "INSERT INTO pending (grp, seq, pkey, attempt, ready_at, subject, body, published_at) "
        "VALUES (?, ?, ?, 0, ?, ?, ?, ?)",
        (group, seq, key, BLOCKED if keyed else at, subject, body, published_at),
    )
    if keyed:
        promote_next(conn, group, key, at)
    return PublishAck(sequence=seq)


def discard_dead_letter(conn: sqlite3.Connection, dead_letter_id: str) -> None:
    """Delete a dead letter; ``DeadLetterNotFound`` if there is none by that id."""
    if not conn.execute("DELETE FROM dead_letters WHERE id = ?", (dead_letter_id,)).rowcount:
        raise DeadLetterNotFound(f"no dead letter {dead_letter_id!r}")


def prune(conn: sqlite3.Connection, retention: RetentionPolicy) -> None:
    """Apply retention, forget old idempotency keys, and dead-letter abandoned last attempts."""
    at = now()
    if retention.max_age is not None:
        conn.execute(
            """
            DELETE FROM messages WHERE seq < coalesce(
                (SELECT seq FROM messages WHERE published_at >= ? ORDER BY seq LIMIT 1),
                (SELECT max(seq) + 1 FROM messages))
            """,
            (at - retention.max_age,),
        )
    if retention.max_messages is not None:
        trim_to_count(conn, retention.max_messages)
    # No index on ``at``: keys are stored in sequence order, so the stale ones are a prefix.
    conn.execute(
        """
        DELETE FROM dedupe WHERE seq < coalesce(
            (SELECT seq FROM dedupe WHERE at >= ? ORDER BY seq LIMIT 1),
            (SELECT max(seq) + 1 FROM dedupe))
        """,
        (at - retention.dedupe_window,),
    )
    conn.execute("DELETE FROM dead_letters WHERE dead_at < ?", (at - retention.dead_letter_max_age,))
    conn.execute("DELETE FROM processed WHERE at < ?", (at - processed_retention(retention),))
    for (raw,) in conn.execute("SELECT spec FROM groups").fetchall():
        rules = rules_of(ConsumerSpec.model_validate_json(raw))
        conn.execute(
            "DELETE FROM pending WHERE grp = ? AND body IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.seq = pending.seq)",
            (rules.group,),
        )
        if rules.ordered:
            ensure_heads(conn, rules.group, at)
        expire_exhausted(conn, rules)


def processed_retention(retention: RetentionPolicy) -> float:
    """How long an idempotent consumer remembers a message: as long as it could come back."""
    return max(retention.max_age or 0.0, retention.dead_letter_max_age, retention.dedupe_window)
