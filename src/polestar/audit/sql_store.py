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
from polestar.audit.store import AuditStore, EntryRow, LeafRow, StoredHead
from polestar.audit.tables import AuditTables


class _Transaction:
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

    def insert(self, rows: Sequence[EntryRow]) -> None:
        if not rows:
            return
        # The hot path: straight to the driver's executemany, skipping per-row bind processing
        # (every value is already the driver's type).
        self._executemany(
            self.t.entries,
            [
                (
                    r.seq, r.leaf, r.leaf_hash, r.seal, r.at_us, r.operation, r.actor, r.device,
                    r.service, r.purpose, r.correlation_id,
                )
                for r in rows
            ],
        )  # fmt: skip
        index = [(p, r.seq) for r in rows for p in r.pseudonyms]
        if index:
            self._executemany(self.t.subjects, index)

    def _executemany(self, table: Table, rows: list[tuple[Any, ...]]) -> None:
        compiled = table.insert().compile(dialect=self.conn.dialect)
        names = [c.name for c in table.columns]
        params: list[Any]
        if not compiled.positional:
            params = [dict(zip(names, row, strict=True)) for row in rows]
        elif list(compiled.positiontup or ()) == names:
            params = rows
        else:
            order = [names.index(n) for n in compiled.positiontup or ()]
            params = [tuple(row[i] for i in order) for row in rows]
        self.conn.exec_driver_sql(str(compiled), params)

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
        if not pseudonyms:
            return {}
        k = self.t.keys
        rows = self.conn.execute(
            select(k.c.pseudonym, k.c.key_id, k.c.key).where(k.c.pseudonym.in_(list(pseudonyms)))
        )
        return {bytes(p): SubjectKey(bytes(i), bytes(key)) for p, i, key in rows if key is not None}

    def add_keys(self, keys: Sequence[tuple[bytes, SubjectKey]]) -> None:
        if keys:
            now = _now_us()
            self.conn.execute(
                self.t.keys.insert(),
                [{"key_id": k.key_id, "pseudonym": p, "key": k.key, "created_at_us": now} for p, k in keys],
            )

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
