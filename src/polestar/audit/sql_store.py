"""``AuditStore`` on SQLAlchemy 2 Core: ``SqliteAuditStore`` (embedded) and ``PostgresAuditStore`` (cluster).

Both share every statement; they differ in how a transaction starts. SQLite:
``BEGIN IMMEDIATE`` takes the database's one write lock, a plain ``BEGIN``
reads one WAL snapshot. PostgreSQL: writers serialise on a transaction-scoped
advisory lock (so the processes of a cluster append one batch at a time, in
sequence order), readers use ``REPEATABLE READ``.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    create_engine,
    delete,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine.url import make_url
from sqlalchemy.pool import ConnectionPoolEntry

from polestar.audit.heads import SignedTreeHead
from polestar.audit.leaf import SubjectKey
from polestar.audit.query import AuditQuery
from polestar.audit.sql_intents import IntentStatements
from polestar.audit.store import AuditStore, EntryRow, LeafRow, StoredHead, SubjectRow
from polestar.audit.tables import AuditTables

_CHUNK = 500
"""Most parameters in one ``IN (...)`` list."""


class _Transaction(IntentStatements):
    """``AuditTransaction`` over one SQLAlchemy connection."""

    def __init__(self, conn: Connection, tables: AuditTables) -> None:
        self.conn = conn
        self.t = tables

    def latest_head(self) -> StoredHead | None:
        h = self.t.heads
        row = self.conn.execute(select(h).order_by(h.c.tree_size.desc()).limit(1)).first()
        return None if row is None else StoredHead(_head(row._mapping), bytes(row.frontier))

    def heads(self) -> list[SignedTreeHead]:
        h = self.t.heads
        return [_head(r._mapping) for r in self.conn.execute(select(h).order_by(h.c.tree_size))]

    def first_seq_from(self, seq: int) -> int | None:
        e = self.t.entries
        found = self.conn.execute(select(func.min(e.c.seq)).where(e.c.seq >= seq)).scalar()
        return None if found is None else int(found)

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(self.t.entries)).scalar_one())

    def insert(self, rows: Sequence[EntryRow], subjects: Sequence[SubjectRow]) -> None:
        # The hot path goes straight to the driver: rows are already the driver's types and in
        # column order. PostgreSQL takes them by COPY, one round trip for the whole batch
        # instead of one statement per row.
        self.insert_rows(self.t.entries, rows)
        self.insert_rows(self.t.subjects, subjects)

    def insert_rows(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (the driver's types, in ``table``'s column order) through the driver."""
        if not rows:
            return
        if self.conn.dialect.name == "postgresql":
            self._copy(table, rows)
            return
        cursor = self.conn.connection.cursor()
        try:
            cursor.executemany(self._insert_sql(table), rows)
        finally:
            cursor.close()

    def _insert_sql(self, table: Table) -> str:
        marks = ", ".join([self._mark] * len(table.columns))
        # Identifiers are our own table's, values are bound: nothing from outside is spliced in.
        return f"INSERT INTO {self._name(table)} VALUES ({marks})"  # noqa: S608

    def _copy(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        columns = ", ".join(self.conn.dialect.identifier_preparer.quote(c.name) for c in table.columns)
        cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            with cursor.copy(f"COPY {self._name(table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()

    def _name(self, table: Table) -> str:
        return str(self.conn.dialect.identifier_preparer.format_table(table))

    @property
    def _mark(self) -> str:
        return "?" if self.conn.dialect.paramstyle == "qmark" else "%s"

    def put_head(self, head: SignedTreeHead, frontier: bytes) -> None:
        h = self.t.heads
        self.conn.execute(delete(h).where(and_(h.c.checkpoint.is_(False), h.c.tree_size <= head.tree_size)))
        if self.conn.execute(select(h.c.tree_size).where(h.c.tree_size == head.tree_size)).first():
            return  # a checkpoint at this size already exists (nothing was appended since)
        self.conn.execute(
            h.insert().values(
                tree_size=head.tree_size,
                timestamp_ms=head.timestamp_ms,
                root_hash=head.root,
                signature=base64.b64decode(head.signature),
                log_id=bytes.fromhex(head.log_id),
                checkpoint=head.checkpoint,
                frontier=frontier,
            )
        )

    def mark_checkpoint(self, tree_size: int) -> None:
        h = self.t.heads
        self.conn.execute(update(h).where(h.c.tree_size == tree_size).values(checkpoint=True))

    def active_keys(self, pseudonyms: Sequence[bytes]) -> dict[bytes, SubjectKey]:
        # On every batch's path (under the write lock): plain SQL through the driver, in chunks
        # well under every driver's limit on parameters.
        if not pseudonyms:
            return {}
        k = self.t.keys
        key = self.conn.dialect.identifier_preparer.quote(k.c.key.name)
        found: dict[bytes, SubjectKey] = {}
        cursor = self.conn.connection.cursor()
        try:
            for start in range(0, len(pseudonyms), _CHUNK):
                part = list(pseudonyms[start : start + _CHUNK])
                marks = ", ".join([self._mark] * len(part))
                cursor.execute(
                    f"SELECT pseudonym, key_id, {key} FROM {self._name(k)} "  # noqa: S608 - as _insert_sql
                    f"WHERE pseudonym IN ({marks}) AND {key} IS NOT NULL",
                    part,
                )
                found.update({bytes(p): SubjectKey(bytes(i), bytes(key)) for p, i, key in cursor.fetchall()})
        finally:
            cursor.close()
        return found

    def add_keys(self, keys: Sequence[tuple[bytes, SubjectKey]]) -> None:
        if not keys:
            return
        # Every new subject's key, on the batch's path under the lock: through the driver too.
        # Rows in the table's column order: key_id, pseudonym, key, created_at_us, erased_at_us.
        now = _now_us()
        rows = [(k.key_id, p, k.key, now, None) for p, k in keys]
        cursor = self.conn.connection.cursor()
        try:
            cursor.executemany(self._insert_sql(self.t.keys), rows)
        finally:
            cursor.close()

    def keys_by_id(self, key_ids: Sequence[bytes]) -> dict[bytes, bytes | None]:
        if not key_ids:
            return {}
        k = self.t.keys
        found: dict[bytes, bytes | None] = {}
        unique = list(set(key_ids))
        for start in range(0, len(unique), 500):
            rows = self.conn.execute(
                select(k.c.key_id, k.c.key).where(k.c.key_id.in_(unique[start : start + 500]))
            )
            found.update({bytes(i): (bytes(key) if key is not None else None) for i, key in rows})
        return found

    def shred(self, pseudonym: bytes, at_us: int) -> int:
        k = self.t.keys
        destroyed = self.conn.execute(
            update(k).where(k.c.pseudonym == pseudonym).values(key=None, pseudonym=None, erased_at_us=at_us)
        ).rowcount
        self.conn.execute(delete(self.t.subjects).where(self.t.subjects.c.pseudonym == pseudonym))
        return int(destroyed)

    def leaves(self, end: int, chunk: int) -> Iterator[Sequence[LeafRow]]:
        e = self.t.entries
        stmt = select(e.c.seq, e.c.leaf, e.c.leaf_hash, e.c.seal).where(e.c.seq < end).order_by(e.c.seq)
        if self.conn.dialect.name == "sqlite":
            # The verify hot path: the driver's own cursor, in this same transaction (so the same
            # snapshot), skipping a Row object per entry; sqlite3 already returns bytes and ints.
            compiled = stmt.compile(dialect=self.conn.dialect)
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(str(compiled), [compiled.params[name] for name in compiled.positiontup or ()])
                while part := cursor.fetchmany(chunk):
                    yield part
            finally:
                cursor.close()
            return
        result = self.conn.execution_options(stream_results=True, yield_per=chunk).execute(stmt)
        try:
            for part in result.partitions():
                yield [tuple(row) for row in part]
        finally:
            result.close()  # a server-side cursor (PostgreSQL) must not outlive an early stop

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        e = self.t.entries
        rows = self.conn.execution_options(yield_per=50_000).execute(
            select(e.c.leaf_hash).where(and_(e.c.seq >= start, e.c.seq < end)).order_by(e.c.seq)
        )
        return [bytes(h) for (h,) in rows]

    def entry(self, seq: int) -> tuple[bytes, bytes] | None:
        e = self.t.entries
        row = self.conn.execute(select(e.c.leaf, e.c.leaf_hash).where(e.c.seq == seq)).first()
        return None if row is None else (bytes(row[0]), bytes(row[1]))

    def find(self, query: AuditQuery, pseudonym: bytes | None) -> list[tuple[int, bytes, bytes]]:
        e = self.t.entries
        stmt = select(e.c.seq, e.c.leaf, e.c.leaf_hash)
        conditions: list[Any] = []
        if pseudonym is not None:
            s = self.t.subjects
            stmt = stmt.join(s, s.c.seq == e.c.seq)
            conditions.append(s.c.pseudonym == pseudonym)
        if query.actor is not None:
            conditions.append((e.c.actor == query.actor) | (e.c.device == query.actor))
        if query.system is not None:
            conditions.append(e.c.service == query.system)
        if query.purpose is not None:
            conditions.append(e.c.purpose == query.purpose)
        if query.operation is not None:
            conditions.append(e.c.operation == query.operation.value)
        if query.correlation_id is not None:
            conditions.append(e.c.correlation_id == query.correlation_id)
        if query.since is not None:
            conditions.append(e.c.at_us >= _us(query.since.timestamp()))
        if query.until is not None:
            conditions.append(e.c.at_us < _us(query.until.timestamp()))
        if conditions:
            stmt = stmt.where(and_(*conditions))
        rows = self.conn.execute(stmt.order_by(e.c.seq).limit(query.limit))
        return [(int(seq), bytes(leaf), bytes(h)) for seq, leaf, h in rows]


def _head(row: Any) -> SignedTreeHead:
    return SignedTreeHead(
        tree_size=int(row["tree_size"]),
        timestamp_ms=int(row["timestamp_ms"]),
        root_hash=bytes(row["root_hash"]).hex(),
        signature=base64.b64encode(bytes(row["signature"])).decode(),
        log_id=bytes(row["log_id"]).hex(),
        checkpoint=bool(row["checkpoint"]),
    )


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


def _now_us() -> int:
    from polestar.model.timeutil import utcnow  # noqa: PLC0415 - one clock for the whole hub

    return _us(utcnow().timestamp())


class _SqlAuditStore:
    """Shared by both engines; subclasses say how to connect and begin."""

    def __init__(self, engine: Engine, tables: AuditTables) -> None:
        self.engine = engine
        self.tables = tables

    def create(self) -> None:
        self.tables.metadata.create_all(self.engine, checkfirst=True)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[_Transaction]:
        with self.engine.connect() as conn:
            self._begin(conn, write=write)
            try:
                yield _Transaction(conn, self.tables)
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()

    def _begin(self, conn: Connection, *, write: bool) -> None:
        raise NotImplementedError


class SqliteAuditStore(_SqlAuditStore):
    """The audit log in a SQLite file (WAL; ``synchronous=FULL`` unless told otherwise).

    Args:
        path: the database file (the embedded store's file by default, beside the POLE tables).
        synchronous: SQLite's ``synchronous`` pragma; FULL survives power loss.
    """

    def __init__(self, path: Path, *, synchronous: str = "FULL") -> None:
        if synchronous.upper() not in {"FULL", "NORMAL", "EXTRA"}:
            raise ValueError("synchronous must be FULL, NORMAL or EXTRA for an audit log")
        self.path = path
        engine = create_engine(
            f"sqlite:///{path}",
            connect_args={"check_same_thread": False, "isolation_level": None, "timeout": 30},
        )
        pragma = synchronous.upper()

        @event.listens_for(engine, "connect")
        def _configure(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA synchronous={pragma}")
            cursor.close()

        super().__init__(engine, AuditTables.define())

    def create(self) -> None:
        """Create the file's folder and the tables."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        super().create()

    def _begin(self, conn: Connection, *, write: bool) -> None:
        # The driver is in autocommit mode, so this BEGIN is the transaction (see SQLAlchemy's
        # "Serializable isolation / Savepoints / Transactional DDL" recipe for pysqlite).
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


class PostgresAuditStore(_SqlAuditStore):
    """The audit log in PostgreSQL (psycopg 3), optionally in a schema of its own.

    Args:
        url: ``postgresql://…``, ``postgresql+psycopg://…`` or the hub's ``postgresql+asyncpg://…``.
        schema: the schema holding the tables (default: the search path).
    """

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 4) -> None:
        parsed = make_url(url).set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, pool_size=pool_size, pool_pre_ping=True)
        super().__init__(engine, AuditTables.define(schema))
        self._lock_key = zlib.crc32(f"{schema or ''}.audit_entries".encode())

    def _begin(self, conn: Connection, *, write: bool) -> None:
        if write:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._lock_key})
        else:
            conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def open_store(url: str, *, schema: str | None = None) -> AuditStore:
    """The store for a hub's store URL: ``sqlite:///FILE`` or a PostgreSQL URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ValueError("the audit log needs a SQLite file, not an in-memory database")
        return SqliteAuditStore(Path(parsed.database))
    if parsed.get_backend_name() == "postgresql":
        return PostgresAuditStore(url, schema=schema)
    raise ValueError(f"no audit store for {parsed.get_backend_name()!r} URLs; use sqlite or postgresql")
