"""The durability seam: an audit entry promised inside the caller's own transaction, appended soon after.

A component that changes data and then logs it has a gap: if the process dies after
its own commit and before ``AuditLog.append`` returns, the change is kept and the
audit entry is lost. The fix is an outbox. The caller writes an *intent* (the entry,
under a key it chooses) in the same transaction as its change; that transaction
either commits both or neither. The log then appends every intent exactly once:

* the caller usually appends at once with the same key (``log.append(entry, key=...)``),
  and the append deletes the intent in the log's own transaction;
* if the caller died first, the log drains pending intents when it starts and every
  ``intent_interval`` seconds after, from any hub process;
* keys already appended are remembered (``audit_entry_keys``, in the commit that wrote
  the entry), so a replayed intent, a drain racing the caller, or two hub processes
  draining at once never write an entry twice;
* an *erasure* entry promised this way destroys its subjects' keys in the very
  transaction that writes it (``writer``), after every entry promised before it: the
  erasure is logged and takes effect together, or neither.

The intents table lives with the audit tables, in the store's database, so the
caller's connection can write it. Until drained (normally milliseconds; at most an
interval after a crash) an intent holds the entry in clear, like the caller's own
rows beside it. An intent that is not a valid entry is set aside with the reason in
its ``problem`` column and reported, never dropped; an operator fixes or removes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import ValidationError
from sqlalchemy import Connection, Executable, Table
from sqlalchemy.dialects import postgresql, sqlite

from polestar.audit.entry import AuditEntry, Operation
from polestar.audit.store import AuditStore
from polestar.audit.tables import AuditTables
from polestar.audit.writer import AppendReceipt
from polestar.model.timeutil import utcnow

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 256

AppendKeyed = Callable[[Sequence[AuditEntry], Sequence[str | None]], Awaitable[list[AppendReceipt]]]
"""How the drainer appends: entries with their intent keys (``AuditLog.append_many``)."""


@lru_cache(maxsize=16)
def _tables(schema: str | None) -> AuditTables:
    return AuditTables.define(schema)


def intents_table(schema: str | None = None) -> Table:
    """The ``audit_intents`` table (in ``schema``: the one the audit log was opened with)."""
    return _tables(schema).intents


def create_intent_tables(conn: Connection, schema: str | None = None) -> None:
    """Create the intent tables if missing (``AuditLog.start`` does too), e.g. in a store's ``create()``."""
    tables = _tables(schema)
    for table in (tables.intents, tables.entry_keys):
        table.create(conn, checkfirst=True)


def check_key(key: object) -> str:
    """``key`` if it is a usable intent key, else ``ValueError`` saying what is wrong with it."""
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"an audit intent key must be a non-empty string, not {key!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(
            f"an audit intent key is at most {MAX_KEY_LENGTH} characters; {key[:40]!r}… has {len(key)}"
        )
    return key


def record_intent(conn: Connection, entry: AuditEntry, *, key: str, schema: str | None = None) -> bool:
    """Promise ``entry`` to the audit log inside the caller's open transaction on ``conn``.

    Commit the transaction as usual: the intent is then appended exactly once, by the
    caller's own ``append(entry, key=key)`` or by a drain. ``key`` names the operation for
    good (e.g. ``store:<event id>``): an intent recorded again under a key that is pending
    or already appended adds nothing. Returns False when the key was already pending.
    """
    check_key(key)
    if not isinstance(entry, AuditEntry):
        raise TypeError(f"record_intent takes an AuditEntry, not {type(entry).__name__}")
    values = {
        "intent_key": key,
        "entry": entry.model_dump_json(),
        "created_at_us": round(utcnow().timestamp() * 1_000_000),
    }
    return conn.execute(_insert_intent(conn.dialect.name, schema), values).rowcount == 1


@lru_cache(maxsize=64)
def _insert_intent(dialect: str, schema: str | None) -> Executable:
    """The insert of one intent, built once per dialect and schema (it is on every store write)."""
    table = intents_table(schema)
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:
        raise ValueError(f"audit intents need SQLite or PostgreSQL, not {dialect}")
    # SQLAlchemy counts the rows of an INSERT only when asked to.
    return stmt.execution_options(preserve_rowcount=True)


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What one drain did: intents appended (or found already appended) and intents set aside."""

    appended: int = 0
    set_aside: int = 0


class IntentDrainer:
    """Appends pending intents through the log, oldest first, a batch at a time.

    Args:
        store: the log's store (where the intents are).
        append: ``AuditLog.append_many`` (entries with their keys).
        batch: intents read per round.
    """

    def __init__(self, store: AuditStore, append: AppendKeyed, *, batch: int = 1000) -> None:
        self.store = store
        self.append = append
        self.batch = batch

    async def drain(self, *, min_age: float = 0.0) -> DrainReport:
        """Append every intent recorded more than ``min_age`` seconds ago; set aside invalid ones."""
        before_us = round((utcnow().timestamp() - min_age) * 1_000_000)
        appended = set_aside = 0
        while True:
            rows = await asyncio.to_thread(self._pending, before_us)
            entries: list[AuditEntry] = []
            keys: list[str | None] = []
            for key, text in rows:
                try:
                    entries.append(AuditEntry.model_validate_json(text))
                except ValidationError as exc:
                    problem = f"not a valid audit entry: {_first_error(exc)}"
                    # The reason is in the message: a validation traceback would add nothing.
                    logger.error("audit intent %r is set aside: %s", key, problem)  # noqa: TRY400
                    await asyncio.to_thread(self._mark, key, problem)
                    set_aside += 1
                    continue
                keys.append(key)
            start = 0
            for end, entry in enumerate(entries, 1):
                # A promised erasure destroys its subjects' keys in the transaction that writes it:
                # it ends its append, so what was promised after it gets new keys, not dead ones.
                if entry.operation is Operation.ERASURE or end == len(entries):
                    await self.append(entries[start:end], keys[start:end])
                    start = end
            appended += len(entries)
            if len(rows) < self.batch:
                return DrainReport(appended, set_aside)

    def _pending(self, before_us: int) -> list[tuple[str, str]]:
        with self.store.transaction(write=False) as tx:
            return tx.pending_intents(self.batch, before_us)

    def _mark(self, key: str, problem: str) -> None:
        with self.store.transaction(write=True) as tx:
            tx.mark_intent(key, problem)


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "entry"
    return f"{where}: {first['msg']}"
