"""Storing messages: the checks before, and the dedupe and insert on the writer thread."""

from __future__ import annotations

import sqlite3
from functools import lru_cache

import orjson
from pydantic import ValidationError

from polestar.bus.contract import PublishAck, check_subject
from polestar.bus.sqlite import settling
from polestar.bus.sqlite.dedupe import DedupeMemory
from polestar.bus.sqlite.recent import RecentMessages
from polestar.bus.sqlite.rows import Outgoing, now
from polestar.errors import BusError, PublishRefused
from polestar.model.envelope import Envelope, is_validated, mark_validated


def insert_messages(
    conn: sqlite3.Connection,
    items: list[Outgoing],
    *,
    dedupe_window: float,
    max_messages: int | None,
    memory: DedupeMemory | None = None,
    recent: RecentMessages | None = None,
) -> list[PublishAck]:
    """Store ``items`` in order, answering a repeated idempotency key with the original's sequence.

    Run inside a write transaction. ``memory`` is the writer's record of recent
    keys (see ``dedupe``); without one, the keys are read from the table each call.
    ``recent`` is given what was stored, for this process's consumers (see ``recent``).
    Set-wise: one statement per table, because per-row statements would cost
    more than the fsync they share.
    """
    if memory is None:
        memory = DedupeMemory(dedupe_window)
    at = now()
    memory.catch_up(conn)
    keys = [item.idempotency_key for item in items]
    known = memory.find(conn, keys, at - dedupe_window)
    if not known and len(set(keys)) == len(keys):
        # Nothing repeated (the common case): every item is stored, in order.
        first = _store(conn, items, keys, at, max_messages=max_messages, memory=memory, recent=recent)
        return [PublishAck(seq) for seq in range(first, first + len(items))]
    fresh: list[Outgoing] = []
    first_of: dict[str, int] = {}  # key -> index in fresh, for repeats within this batch
    for item in items:
        if item.idempotency_key not in known and item.idempotency_key not in first_of:
            first_of[item.idempotency_key] = len(fresh)
            fresh.append(item)
    first = (
        _store(conn, fresh, list(first_of), at, max_messages=max_messages, memory=memory, recent=recent)
        if fresh
        else 0
    )
    acks: list[PublishAck] = []
    taken: set[str] = set()
    for item in items:
        key = item.idempotency_key
        if key in known:
            acks.append(PublishAck(sequence=known[key], duplicate=True))
        elif key in taken:
            acks.append(PublishAck(sequence=first + first_of[key], duplicate=True))
        else:
            taken.add(key)
            acks.append(PublishAck(sequence=first + first_of[key]))
    return acks


def _store(
    conn: sqlite3.Connection,
    fresh: list[Outgoing],
    keys: list[str],
    at: float,
    *,
    max_messages: int | None,
    memory: DedupeMemory,
    recent: RecentMessages | None,
) -> int:
    """Insert ``fresh`` (whose idempotency keys are ``keys``, all new) and their dedupe rows.

    Returns the first sequence: the writer holds SQLite's write lock, and AUTOINCREMENT
    hands out consecutive numbers, so the batch took the last ``len(fresh)`` sequences.
    """
    first = _insert_rows(conn, fresh, at) - len(fresh) + 1
    # One statement for the lot (json_each's ``key`` is the position in the list).
    conn.execute(
        "INSERT INTO dedupe (seq, key, at) SELECT ? + key, value, ? FROM json_each(?)",
        (first, at, orjson.dumps(keys).decode()),
    )
    if max_messages is not None:
        trim_to_count(conn, max_messages)
    memory.stored(keys, first, at)
    if recent is not None:
        recent.stage_published(first, fresh, at)
    return first


_INSERT = """
INSERT INTO messages (subject, pkey, body, published_at)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
       substr(?2, json_extract(value, '$[2]'), json_extract(value, '$[3]')), ?3
FROM json_each(?1) ORDER BY key
"""
# substr of a BLOB counts bytes and returns a BLOB: each row's body is its slice of ?2.


def _insert_rows(conn: sqlite3.Connection, items: list[Outgoing], at: float) -> int:
    """Insert ``items`` in order with one statement; return the last sequence given.

    ``executemany`` steps once per row, and the sqlite3 module gives up the GIL for
    every step: behind a busy event loop, taking it back costs the writer far more
    than the insert itself. So the rows go in as one JSON list of (subject, key,
    offset, length) and one BLOB of every body end to end, which SQLite slices.
    """
    rows: list[tuple[str, str | None, int, int]] = []
    offset = 1  # substr counts from 1
    for item in items:
        size = len(item.body)
        rows.append((item.subject, item.key, offset, size))
        offset += size
    bodies = b"".join([item.body for item in items])
    cursor = conn.execute(_INSERT, (orjson.dumps(rows).decode(), bodies, at))
    last = cursor.lastrowid
    if last is None:
        raise BusError("SQLite did not report the sequence of the messages just stored")
    return last


def forward(
    conn: sqlite3.Connection,
    items: list[Outgoing],
    acks: list[settling.AckItem],
    *,
    dedupe_window: float,
    max_messages: int | None,
    memory: DedupeMemory | None = None,
    recent: RecentMessages | None = None,
) -> list[PublishAck]:
    """Store ``items`` and settle ``acks`` in the same transaction: a router's output and its input."""
    published = (
        insert_messages(
            conn, items, dedupe_window=dedupe_window, max_messages=max_messages, memory=memory, recent=recent
        )
        if items
        else []
    )
    if acks:
        settling.ack_many(conn, acks)
    return published


def trim_to_count(conn: sqlite3.Connection, max_messages: int) -> None:
    """Drop the oldest messages beyond ``max_messages``.

    Sequences are contiguous apart from pruning at the front (AUTOINCREMENT is
    rolled back with its transaction), so the cut-off is arithmetic, not a count.
    """
    conn.execute(
        "DELETE FROM messages WHERE seq <= (SELECT max(seq) FROM messages) - ?",
        (max_messages,),
    )


_ENVELOPE_FIELDS = Envelope.__pydantic_validator__
"""Envelope's validator, applied to an envelope's field values without building JSON first."""

_ENCODE = Envelope.__pydantic_serializer__.to_json
"""``Envelope.to_json`` without its two wrappers (``model_dump_json`` and ``str.encode``): same bytes."""

_check_subject = lru_cache(maxsize=1024)(check_subject)
"""``check_subject``, remembering the (few, much repeated) subjects that passed."""


def prepare(envelope: object, subject: str | None, idempotency_key: str | None, max_bytes: int) -> Outgoing:
    """Check and encode one message, or raise ``PublishRefused`` saying why."""
    if not isinstance(envelope, Envelope):
        raise PublishRefused(f"the bus carries Envelopes, not {type(envelope).__name__}")
    target = envelope.type if subject is None else subject
    try:
        _check_subject(target)
    except ValueError as exc:
        raise PublishRefused(str(exc)) from exc
    try:
        body = _ENCODE(envelope, exclude_none=True)
        # model_construct() and model_copy() skip validation, and an envelope no consumer
        # can parse must be refused here. Validating the fields as they stand checks what
        # parsing ``body`` would, for three quarters of the cost; an envelope that came
        # through a validating path (parsed, ``caused``, published before) is marked.
        if not is_validated(envelope):
            _ENVELOPE_FIELDS.validate_python(envelope.__dict__)
            mark_validated(envelope)
    except (ValidationError, ValueError, TypeError) as exc:
        raise PublishRefused(f"the envelope is not valid: {exc}") from exc
    if len(body) > max_bytes:
        raise PublishRefused(f"the envelope is {len(body)} bytes; the bus accepts at most {max_bytes}")
    key = envelope.id if idempotency_key is None else idempotency_key
    if not key:
        raise PublishRefused("the idempotency key is empty")
    return Outgoing(target, envelope.partitionkey, body, key, envelope)
