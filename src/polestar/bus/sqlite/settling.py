"""Ending leases, run on the writer thread: acknowledgements, retries, dead letters, key heads.

Each settlement takes the lease token: a member whose lease lapsed and was taken
over settles nothing (its late answer is ignored; the new holder's counts).
Ending a lease on a message of an ordered group lets the next message of its
partition key go (``promote_next``); the leases themselves are taken in ``claims.py``.
"""

from __future__ import annotations

import sqlite3
import uuid

import orjson

from polestar.bus.sqlite.rows import BLOCKED, History, dump_history, load_history, now
from polestar.bus.sqlite.rules import GroupRules

EXPIRED = "not settled before its lease ended (ack_wait passed or the consumer left)"
"""Why a lease ended unanswered: the history entry, and how a lapsed last attempt's dead letter begins."""


def ack(conn: sqlite3.Connection, rules: GroupRules, *, seq: int, token: str, key: str | None) -> bool:
    """Done: forget the message for this group; let the next of its key go."""
    deleted = conn.execute(
        "DELETE FROM pending WHERE grp = ? AND seq = ? AND token = ?", (rules.group, seq, token)
    ).rowcount
    if deleted and rules.ordered and key is not None:
        promote_next(conn, rules.group, key, now())
    return bool(deleted)


AckItem = tuple[GroupRules, int, str, str | None]
"""An acknowledgement as the writer takes it: the group's rules, sequence, lease token, key."""


def ack_many(conn: sqlite3.Connection, items: list[AckItem]) -> list[None]:
    """Acknowledge many deliveries at once: one statement for every unordered one."""
    plain: dict[tuple[str, str], list[int]] = {}  # by group and lease: one fetch's deliveries
    for rules, seq, token, key in items:
        if rules.ordered and key is not None:
            ack(conn, rules, seq=seq, token=token, key=key)
        else:
            plain.setdefault((rules.group, token), []).append(seq)
    for (group, token), seqs in plain.items():
        conn.execute(
            "DELETE FROM pending WHERE grp = ? AND token = ? AND seq IN (SELECT value FROM json_each(?))",
            (group, token, orjson.dumps(seqs).decode()),
        )
    return [None] * len(items)


def in_progress(conn: sqlite3.Connection, rules: GroupRules, *, seq: int, token: str) -> bool:
    """Still working: the lease runs another ``ack_wait`` from now."""
    return bool(
        conn.execute(
            "UPDATE pending SET ready_at = ? WHERE grp = ? AND seq = ? AND token = ?",
            (now() + rules.ack_wait, rules.group, seq, token),
        ).rowcount
    )


def _failed_attempt(
    conn: sqlite3.Connection, rules: GroupRules, *, seq: int, token: str, at: float, reason: str
) -> tuple[int, History] | None:
    """The attempt that failed and its history with this failure added; None if the lease was lost."""
    row = conn.execute(
        "SELECT attempt, history FROM pending WHERE grp = ? AND seq = ? AND token = ?",
        (rules.group, seq, token),
    ).fetchone()
    if row is None:
        return None
    attempt, raw_history = row
    return attempt, [*load_history(raw_history), (attempt, at, reason)]


def nack(
    conn: sqlite3.Connection,
    rules: GroupRules,
    *,
    seq: int,
    token: str,
    key: str | None,
    reason: str,
    delay: float,
) -> bool:
    """Failed: try again after ``delay``, or dead-letter when attempts are used up."""
    at = now()
    failed = _failed_attempt(conn, rules, seq=seq, token=token, at=at, reason=reason)
    if failed is None:
        return False
    attempt, history = failed
    if attempt >= rules.max_attempts:
        reason = f"failed {attempt} attempt(s); last: {reason}"
        dead_letter(conn, rules, seq=seq, key=key, reason=reason, history=history, at=at)
        return True
    conn.execute(
        "UPDATE pending SET token = NULL, ready_at = ?, history = ? WHERE grp = ? AND seq = ?",
        (at + delay, dump_history(history), rules.group, seq),
    )
    return True


def reject(
    conn: sqlite3.Connection, rules: GroupRules, *, seq: int, token: str, key: str | None, reason: str
) -> bool:
    """Poison: dead-letter now, whatever attempts remain."""
    at = now()
    failed = _failed_attempt(conn, rules, seq=seq, token=token, at=at, reason=reason)
    if failed is None:
        return False
    _, history = failed
    dead_letter(conn, rules, seq=seq, key=key, reason=f"rejected: {reason}", history=history, at=at)
    return True


def release(conn: sqlite3.Connection, rules: GroupRules, leases: list[tuple[str, int]]) -> None:
    """End leases early (their member left): the messages are due again now, as if expired."""
    at = now()
    conn.executemany(
        "UPDATE pending SET ready_at = ? WHERE grp = ? AND seq = ? AND token = ?",
        [(at, rules.group, seq, token) for token, seq in leases],
    )


def expire_exhausted(conn: sqlite3.Connection, rules: GroupRules) -> int:
    """Dead-letter lapsed leases that were the last attempt (nobody claimed since)."""
    at = now()
    rows = conn.execute(
        "SELECT seq, pkey, attempt, history FROM pending "
        "WHERE grp = ? AND token IS NOT NULL AND ready_at <= ? AND attempt >= ?",
        (rules.group, at, rules.max_attempts),
    ).fetchall()
    for seq, key, attempt, raw_history in rows:
        history = [*load_history(raw_history), (attempt, at, EXPIRED)]
        reason = f"{EXPIRED}; gave up after {attempt} attempt(s)"
        dead_letter(conn, rules, seq=seq, key=key, reason=reason, history=history, at=at)
    return len(rows)


def dead_letter(
    conn: sqlite3.Connection,
    rules: GroupRules,
    *,
    seq: int,
    key: str | None,
    reason: str,
    history: History,
    at: float,
) -> None:
    """Move one pending message of the group to the dead letters, with a copy of its body."""
    conn.execute(
        """
        INSERT INTO dead_letters (id, grp, seq, subject, pkey, body, published_at, reason, history, dead_at)
        SELECT ?, p.grp, p.seq, coalesce(p.subject, m.subject), p.pkey, coalesce(p.body, m.body),
               coalesce(p.published_at, m.published_at), ?, ?, ?
        FROM pending p LEFT JOIN messages m ON m.seq = p.seq
        WHERE p.grp = ? AND p.seq = ? AND coalesce(p.body, m.body) IS NOT NULL
        """,
        (uuid.uuid4().hex, reason, dump_history(history), at, rules.group, seq),
    )
    forget(conn, rules, seq, key, at)


def forget(conn: sqlite3.Connection, rules: GroupRules, seq: int, key: str | None, at: float) -> None:
    """Drop one pending row and, for an ordered group, release the next of its key."""
    conn.execute("DELETE FROM pending WHERE grp = ? AND seq = ?", (rules.group, seq))
    if rules.ordered and key is not None:
        promote_next(conn, rules.group, key, at)


def promote_next(conn: sqlite3.Connection, group: str, key: str, at: float) -> None:
    """Make the earliest waiting message of ``key`` the head, unless a head remains."""
    conn.execute(
        """
        UPDATE pending SET ready_at = ?
        WHERE grp = ? AND ready_at >= ?
          AND seq = (SELECT min(seq) FROM pending WHERE grp = ? AND pkey = ?)
          AND NOT EXISTS (SELECT 1 FROM pending WHERE grp = ? AND pkey = ? AND ready_at < ?)
        """,
        (at, group, BLOCKED, group, key, group, key, BLOCKED),
    )


def ensure_heads(conn: sqlite3.Connection, group: str, at: float) -> None:
    """Give every key of ``group`` with waiting messages a head (after replays and pruning)."""
    conn.execute(
        """
        UPDATE pending SET ready_at = ?
        WHERE grp = ? AND ready_at >= ? AND seq IN (
            SELECT min(seq) FROM pending WHERE grp = ? AND pkey IS NOT NULL
            GROUP BY pkey HAVING min(ready_at) >= ?)
        """,
        (at, group, BLOCKED, group, BLOCKED),
    )
