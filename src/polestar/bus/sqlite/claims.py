"""Leasing messages to a group's members, run on the writer thread.

A claim runs inside the writer's ``BEGIN IMMEDIATE`` transaction, which holds
SQLite's single write lock, so two members of a group (in this process or
another) can never lease the same message while its lease runs. A lease is a
``pending`` row with a ``token`` and ``ready_at`` in the future; when
``ready_at`` passes unsettled, the next claim takes the message back.

Per-key ordering keeps, for each partition key of an ordered group, exactly
one *head* row whose ``ready_at`` is real; a claim queues every later row of
that key at ``BLOCKED``, and ``settling.promote_next`` lets the next one go
once the head is acknowledged or dead-lettered. Leases end in ``settling.py``.
"""

from __future__ import annotations

import sqlite3
import uuid

import orjson

from polestar.bus.sqlite.filters import (
    claim_head_query,
    globs_exact,
    globs_of,
    lease_range_query,
    scan_query,
)
from polestar.bus.sqlite.recent import RecentMessages
from polestar.bus.sqlite.rows import (
    BLOCKED,
    Claimed,
    ClaimResult,
    StoredMessage,
    dump_history,
    load_history,
    now,
)
from polestar.bus.sqlite.rules import GroupRules
from polestar.bus.sqlite.settling import EXPIRED, dead_letter, forget
from polestar.errors import BusError

SCAN_PAGE = 1024
SCAN_MAX = 8192
"""Most stream rows one claim looks at, so one transaction never runs long."""


def claim(
    conn: sqlite3.Connection, rules: GroupRules, max_messages: int, recent: RecentMessages | None = None
) -> ClaimResult:
    """Lease up to ``max_messages`` to one member: redeliveries due first, then new messages.

    Messages found in ``recent`` (published by this process lately) are handed out
    as they were published, without reading or parsing their rows.
    """
    at = now()
    token = uuid.uuid4().hex
    claimed: list[Claimed] = []
    recent = recent if recent is not None else _NOTHING_RECENT
    ranged = not rules.ordered and globs_exact(rules.filters)
    globs = globs_of(rules.filters) if ranged else ()
    params = (
        (rules.group, BLOCKED, SCAN_MAX, max_messages, *globs) if ranged else (rules.group, BLOCKED, SCAN_MAX)
    )
    # The cursor moves past whatever this claim looks at, so it looks at no more than SCAN_MAX.
    row = conn.execute(claim_head_query(len(globs), listing=ranged), params).fetchone()
    if row is None:
        raise BusError(f"consumer group {rules.group!r} does not exist")
    start, end, earliest, listed = row
    due = earliest is not None and earliest <= at
    if due:
        _claim_due(conn, rules, limit=max_messages, token=token, at=at, claimed=claimed, recent=recent)
    if len(claimed) < max_messages and end > start:
        limit = max_messages - len(claimed)
        if ranged:
            seqs: list[int] = orjson.loads(listed)
            last = _claim_range(
                conn,
                rules,
                seqs,
                start=start,
                end=end,
                limit=limit,
                token=token,
                at=at,
                claimed=claimed,
                recent=recent,
            )
        else:
            last = _claim_scanned(
                conn,
                rules,
                start=start,
                end=end,
                limit=max_messages,
                token=token,
                at=at,
                claimed=claimed,
                recent=recent,
            )
        if last != start:
            conn.execute("UPDATE groups SET cursor = ? WHERE name = ?", (last, rules.group))
    if claimed:
        return ClaimResult(claimed, None)  # the member has work; it asks again when it is done
    if due:  # redeliveries were dead-lettered or forgotten: the earliest may have gone
        (earliest,) = conn.execute(
            "SELECT min(ready_at) FROM pending WHERE grp = ? AND ready_at < ?", (rules.group, BLOCKED)
        ).fetchone()
    return ClaimResult(claimed, earliest)


_NOTHING_RECENT = RecentMessages(size=0)
"""Stands in when no cache is given: nothing is ever staged to it, so every row is read."""

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
    recent: RecentMessages,
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
        message = recent.resolve(StoredMessage(seq, subject, key, body, published_at))
        claimed.append(Claimed(message, attempt + 1, token))


def _claim_scanned(
    conn: sqlite3.Connection,
    rules: GroupRules,
    *,
    start: int,
    end: int,
    limit: int,
    token: str,
    at: float,
    claimed: list[Claimed],
    recent: RecentMessages,
) -> int:
    """Lease new messages after ``start`` up to ``end`` row by row; return how far it looked.

    For an ordered group or a ``*`` filter; ``limit`` counts what ``claimed`` holds already.
    """
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
        recent=recent,
    )
    if leased:
        conn.execute(_LEASE, (rules.group, at + rules.ack_wait, token, _json(leased)))
    if queued:
        conn.executemany(
            "INSERT INTO pending (grp, seq, pkey, attempt, ready_at) VALUES (?, ?, ?, ?, ?)", queued
        )
    return last


def _claim_range(
    conn: sqlite3.Connection,
    rules: GroupRules,
    seqs: list[int],
    *,
    start: int,
    end: int,
    limit: int,
    token: str,
    at: float,
    claimed: list[Claimed],
    recent: RecentMessages,
) -> int:
    """Lease new messages to an unordered group whose filters GLOB matches exactly.

    Such a group leases every row its filter passes, so the rows it reads and the rows
    it leases are one range. ``seqs`` are the first sequences after ``start`` the filter
    passes (listed by ``claim_head_query``, at least ``limit`` of them if there are);
    one statement leases the range, and only the rows ``recent`` does not hold are
    read. Returns how far the group has looked.
    """
    if not seqs:
        return end
    seqs.sort()  # the aggregate's order is not promised; the list is (nearly always) sorted already
    if len(seqs) >= limit:
        del seqs[limit:]
        last: int = seqs[-1]
    else:
        last = end
    globs = globs_of(rules.filters)
    conn.execute(
        lease_range_query(len(globs)), (rules.group, at + rules.ack_wait, token, start, last, *globs)
    )
    found = recent.lookup(seqs)
    missing = [seq for seq, message in zip(seqs, found, strict=True) if message is None]
    if not missing:
        claimed.extend([Claimed(message, 1, token) for message in found if message is not None])
        return last
    rows = {row[0]: StoredMessage._make(row) for row in conn.execute(_ROWS, (_json(missing),))}
    claimed.extend(
        [
            Claimed(rows[seq] if message is None else message, 1, token)
            for seq, message in zip(seqs, found, strict=True)
        ]
    )
    return last


_ROWS = """
SELECT seq, subject, pkey, body, published_at FROM messages
WHERE seq IN (SELECT value FROM json_each(?))
"""


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
    recent: RecentMessages,
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
            claimed.append(
                Claimed(recent.resolve(StoredMessage(seq, subject, key, body, published_at)), 1, token)
            )
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
