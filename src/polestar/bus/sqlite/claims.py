"""Leasing messages to a group's members and settling them, run on the writer thread.

A claim runs inside the writer's ``BEGIN IMMEDIATE`` transaction, which holds
SQLite's single write lock, so two members of a group (in this process or
another) can never lease the same message while its lease runs. A lease is a
``pending`` row with a ``token`` and ``ready_at`` in the future; when
``ready_at`` passes unsettled, the next claim takes the message back.

Per-key ordering keeps, for each partition key of an ordered group, exactly
one *head* row whose ``ready_at`` is real; every later row of that key waits
at ``BLOCKED`` until the head is acknowledged or dead-lettered and
``promote_next`` lets the next one go.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

import orjson

from polestar.bus.sqlite.filters import compile_filters, globs_exact, globs_of, lease_range_query, scan_query
from polestar.bus.sqlite.rows import (
    BLOCKED,
    Claimed,
    ClaimResult,
    History,
    StoredMessage,
    dump_history,
    load_history,
    now,
)
from polestar.errors import BusError

SCAN_PAGE = 1024
SCAN_MAX = 8192
"""Most stream rows one claim looks at, so one transaction never runs long."""

EXPIRED = "not settled before its lease ended (ack_wait passed or the consumer left)"


@dataclass(frozen=True, slots=True)
class GroupRules:
    """What a claim needs to know about the group it claims for."""

    group: str
    filters: tuple[str, ...]
    ordered: bool
    ack_wait: float
    max_attempts: int

    def matches(self, subject: str) -> bool:
        """True when ``subject`` passes one of the group's filters."""
        pattern = compile_filters(self.filters)
        return pattern is None or pattern.match(subject) is not None


def claim(conn: sqlite3.Connection, rules: GroupRules, max_messages: int) -> ClaimResult:
    """Lease up to ``max_messages`` to one member: redeliveries due first, then new messages."""
    at = now()
    token = uuid.uuid4().hex
    claimed: list[Claimed] = []
    _claim_due(conn, rules, limit=max_messages, token=token, at=at, claimed=claimed)
    if len(claimed) < max_messages:
        _claim_new(conn, rules, limit=max_messages, token=token, at=at, claimed=claimed)
    if claimed:
        return ClaimResult(claimed, None)  # the member has work; it asks again when it is done
    (next_ready,) = conn.execute(
        "SELECT min(ready_at) FROM pending WHERE grp = ? AND ready_at < ?", (rules.group, BLOCKED)
    ).fetchone()
    return ClaimResult(claimed, next_ready)


_DUE = """
SELECT p.seq, p.pkey, p.attempt, p.token, p.history,
       coalesce(p.subject, m.subject), coalesce(p.body, m.body), coalesce(p.published_at, m.published_at)
FROM pending p INDEXED BY pending_ready LEFT JOIN messages m ON m.seq = p.seq
WHERE p.grp = ? AND p.ready_at <= ?
ORDER BY p.seq LIMIT ?
"""
# INDEXED BY: left to itself SQLite walks the primary key for the ORDER BY, visiting every
# message in flight on each claim; the index finds the few that are due, which are then sorted.


def _claim_due(
    conn: sqlite3.Connection,
    rules: GroupRules,
    *,
    limit: int,
    token: str,
    at: float,
    claimed: list[Claimed],
) -> None:
    rows = conn.execute(_DUE, (rules.group, at, limit)).fetchall()
    for seq, key, attempt, old_token, raw_history, subject, body, published_at in rows:
        if body is None:
            # Retention removed the message before this group finished with it.
            forget(conn, rules, seq, key, at)
            continue
        history = load_history(raw_history)
        if old_token is not None:
            history.append((attempt, at, EXPIRED))
            if attempt >= rules.max_attempts:
                reason = f"{EXPIRED}; gave up after {attempt} attempt(s)"
                dead_letter(conn, rules, seq=seq, key=key, reason=reason, history=history, at=at)
                continue
        conn.execute(
            "UPDATE pending SET attempt = ?, ready_at = ?, token = ?, history = ? WHERE grp = ? AND seq = ?",
            (attempt + 1, at + rules.ack_wait, token, dump_history(history), rules.group, seq),
        )
        message = StoredMessage(seq, subject, key, body, published_at)
        claimed.append(Claimed(message, attempt + 1, token))


def _claim_new(
    conn: sqlite3.Connection,
    rules: GroupRules,
    *,
    limit: int,
    token: str,
    at: float,
    claimed: list[Claimed],
) -> None:
    row = conn.execute(
        "SELECT cursor, (SELECT coalesce(max(seq), 0) FROM messages) FROM groups WHERE name = ?",
        (rules.group,),
    ).fetchone()
    if row is None:
        raise BusError(f"consumer group {rules.group!r} does not exist")
    start, newest = row
    # The cursor moves past whatever this claim looks at, so look at no more than SCAN_MAX.
    end = min(newest, start + SCAN_MAX)
    if end <= start:
        return
    if not rules.ordered and globs_exact(rules.filters):
        last = _claim_range(
            conn, rules, start=start, end=end, limit=limit - len(claimed), token=token, at=at, claimed=claimed
        )
        if last != start:
            conn.execute("UPDATE groups SET cursor = ? WHERE name = ?", (last, rules.group))
        return
    leased: list[tuple[int, str | None]] = []
    queued: list[tuple[str, int, str | None, int, float]] = []
    last = _scan(
        conn,
        rules,
        start=start,
        end=end,
        limit=limit,
        claimed=claimed,
        leased=leased,
        queued=queued,
        token=token,
    )
    if leased:
        conn.execute(_LEASE, (rules.group, at + rules.ack_wait, token, _json(leased)))
    if queued:
        conn.executemany(
            "INSERT INTO pending (grp, seq, pkey, attempt, ready_at) VALUES (?, ?, ?, ?, ?)", queued
        )
    if last != start:
        conn.execute("UPDATE groups SET cursor = ? WHERE name = ?", (last, rules.group))


def _claim_range(
    conn: sqlite3.Connection,
    rules: GroupRules,
    *,
    start: int,
    end: int,
    limit: int,
    token: str,
    at: float,
    claimed: list[Claimed],
) -> int:
    """Lease new messages to an unordered group whose filters GLOB matches exactly.

    Such a group leases every row its filter passes, so the rows it reads and the rows
    it leases are one range: one query reads them, one statement leases the range, and
    no row goes through Python twice. Returns how far the group has looked.
    """
    globs = globs_of(rules.filters)
    rows = conn.execute(scan_query(len(globs)), (start, end, *globs, limit)).fetchall()
    if not rows:
        return end
    last: int = rows[-1][0] if len(rows) == limit else end
    conn.execute(
        lease_range_query(len(globs)), (rules.group, at + rules.ack_wait, token, start, last, *globs)
    )
    claimed.extend([Claimed(StoredMessage._make(row), 1, token) for row in rows])
    return last


def _scan(
    conn: sqlite3.Connection,
    rules: GroupRules,
    *,
    start: int,
    end: int,
    limit: int,
    claimed: list[Claimed],
    leased: list[tuple[int, str | None]],
    queued: list[tuple[str, int, str | None, int, float]],
    token: str,
) -> int:
    """Look at the group's messages after ``start`` up to ``end``; return how far it got.

    Fills ``claimed`` and the rows to insert (``leased``, ``queued``) in place.
    """
    globs = globs_of(rules.filters)
    query = scan_query(len(globs))
    exact = globs_exact(rules.filters)
    page_size = min(SCAN_PAGE, max(limit + 1, 16))
    keys_leased: set[str] = set()
    last = after = start
    while True:
        page = conn.execute(query, (after, end, *globs, page_size)).fetchall()
        for seq, subject, key, body, published_at in page:
            if not exact and not rules.matches(subject):
                continue  # a '*' filter: GLOB only narrowed it down
            if rules.ordered and key is not None and (key in keys_leased or _key_waiting(conn, rules, key)):
                queued.append((rules.group, seq, key, 0, BLOCKED))
                last = seq
                continue
            if len(claimed) >= limit:
                return last
            leased.append((seq, key))
            if rules.ordered and key is not None:
                keys_leased.add(key)
            claimed.append(Claimed(StoredMessage(seq, subject, key, body, published_at), 1, token))
            last = seq
        if len(page) < page_size:
            return end  # every row up to ``end`` has been looked at
        after = page[-1][0]


# One statement for the whole batch: SQLite walks the list itself, where executemany would
# hand each row across (and give up and take back the GIL for each, behind the event loop).
_LEASE = """
INSERT INTO pending (grp, seq, pkey, attempt, ready_at, token)
SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), 1, ?, ? FROM json_each(?)
"""


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _key_waiting(conn: sqlite3.Connection, rules: GroupRules, key: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pending WHERE grp = ? AND pkey = ? LIMIT 1", (rules.group, key)
    ).fetchone()
    return row is not None


# -- settling -------------------------------------------------------------------------
# Each takes the lease token: a member whose lease lapsed and was taken over settles
# nothing (its late answer is ignored; the new holder's counts).


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
            (group, token, _json(seqs)),
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
    row = conn.execute(
        "SELECT attempt, history FROM pending WHERE grp = ? AND seq = ? AND token = ?",
        (rules.group, seq, token),
    ).fetchone()
    if row is None:
        return False
    attempt, raw_history = row
    history = [*load_history(raw_history), (attempt, at, reason)]
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
    row = conn.execute(
        "SELECT attempt, history FROM pending WHERE grp = ? AND seq = ? AND token = ?",
        (rules.group, seq, token),
    ).fetchone()
    if row is None:
        return False
    attempt, raw_history = row
    history = [*load_history(raw_history), (attempt, at, reason)]
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
