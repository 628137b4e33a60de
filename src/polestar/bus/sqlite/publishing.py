"""Storing messages: the checks before, and the dedupe and insert on the writer thread."""

from __future__ import annotations

import sqlite3
from functools import lru_cache

import orjson
from pydantic import ValidationError

from polestar.bus.contract import PublishAck, check_subject
from polestar.bus.sqlite import settling
from polestar.bus.sqlite.dedupe import DedupeMemory
from polestar.bus.sqlite.rows import Outgoing, now
from polestar.errors import PublishRefused
from polestar.model.envelope import Envelope, is_validated, mark_validated


def insert_messages(
    conn: sqlite3.Connection,
    items: list[Outgoing],
    *,
    dedupe_window: float,
    max_messages: int | None,
    memory: DedupeMemory | None = None,
) -> list[PublishAck]:
    """Store ``items`` in order, answering a repeated idempotency key with the original's sequence.

    Run inside a write transaction. ``memory`` is the writer's record of recent
    keys (see ``dedupe``); without one, the keys are read from the table each call.
    Set-wise: one ``executemany`` per table, because per-row statements would
    cost more than the fsync they share.
    """
    if memory is None:
        memory = DedupeMemory(dedupe_window)
    at = now()
    memory.catch_up(conn)
    known = memory.find(conn, [item.idempotency_key for item in items], at - dedupe_window)
    fresh: list[Outgoing] = []
    first_of: dict[str, int] = {}  # key -> index in fresh, for repeats within this batch
    for item in items:
        if item.idempotency_key not in known and item.idempotency_key not in first_of:
            first_of[item.idempotency_key] = len(fresh)
            fresh.append(item)
    first = 0
    if fresh:
        conn.executemany(
            "INSERT INTO messages (subject, pkey, body, published_at) VALUES (?, ?, ?, ?)",
            [(item.subject, item.key, item.body, at) for item in fresh],
        )
        # The writer holds SQLite's write lock, and AUTOINCREMENT hands out consecutive
        # numbers, so this batch took the last len(fresh) sequences.
        (last,) = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
        first = last - len(fresh) + 1
        keys = list(first_of)
        # One statement for the lot (json_each's ``key`` is the position in the list).
        conn.execute(
            "INSERT INTO dedupe (seq, key, at) SELECT ? + key, value, ? FROM json_each(?)",
            (first, at, orjson.dumps(keys).decode()),
        )
        if max_messages is not None:
            trim_to_count(conn, max_messages)
        memory.stored(keys, first, at)
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


def forward(
    conn: sqlite3.Connection,
    items: list[Outgoing],
    acks: list[settling.AckItem],
    *,
    dedupe_window: float,
    max_messages: int | None,
    memory: DedupeMemory | None = None,
) -> list[PublishAck]:
    """Store ``items`` and settle ``acks`` in the same transaction: a router's output and its input."""
    published = (
        insert_messages(conn, items, dedupe_window=dedupe_window, max_messages=max_messages, memory=memory)
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
