"""``SqlStore``: the store's operations on SQLAlchemy 2 Core, over either engine.

Every statement is shared (``writes``, ``reads``, ``merging``, ``erasing``);
each call runs in one transaction on a worker thread. How a transaction begins
is the engine's (``SqliteStore`` and ``PostgresStore``, ``sql_store.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TypeVar

from sqlalchemy import Connection, Engine

from polestar.model.common import Entity
from polestar.model.envelope import Envelope
from polestar.model.marking import ProtectiveMarking
from polestar.model.timeutil import utcnow
from polestar.store import erasing, merging, reads
from polestar.store.contract import ErasureCallback, MergeCallback, Store
from polestar.store.erasure import ErasureHooks
from polestar.store.errors import ErasureIncomplete
from polestar.store.intents import AfterCommit, ApplyIntent, ErasureIntent, MergeIntent
from polestar.store.migrate import upgrade_connection
from polestar.store.records import (
    ApplyResult,
    ErasureSummary,
    FieldClaim,
    HistoryEntry,
    MergeRecord,
    StoredEntity,
    StoredLink,
    SubjectRow,
    Traversal,
)
from polestar.store.writes import apply_events, entity_of

T = TypeVar("T")


class SqlStore:
    """The store over one SQLAlchemy engine; use ``SqliteStore`` or ``PostgresStore``.

    Args:
        engine: where the tables live.
        hooks: erasure hooks of the components that keep data built from the store.
        source_priority: system name -> priority, breaking ties between claims observed at
            the same time (higher wins; unnamed systems are 0).
        on_erasure: told of every erasure (ids and counts, no content), e.g. to audit it.
        on_merge: told of every merge and unmerge once committed (ids, who and why).
        apply_intent: called inside each apply's transaction that created or updated a record, e.g.
            to record the audit entry with it (``intents.py``); its ``AfterCommit`` is awaited after.
        merge_intent: the same for each merge and unmerge.
        erasure_intent: the same for each erasure (its ``ErasureSummary`` before the hooks ran).
    """

    name = "sql"

    def __init__(
        self,
        engine: Engine,
        *,
        hooks: ErasureHooks | None = None,
        source_priority: Mapping[str, int] | None = None,
        on_erasure: ErasureCallback | None = None,
        on_merge: MergeCallback | None = None,
        apply_intent: ApplyIntent | None = None,
        merge_intent: MergeIntent | None = None,
        erasure_intent: ErasureIntent | None = None,
    ) -> None:
        self.engine = engine
        self.hooks = hooks if hooks is not None else ErasureHooks()
        self.source_priority = dict(source_priority or {})
        self.on_erasure = on_erasure
        self.on_merge = on_merge
        self.apply_intent = apply_intent
        self.merge_intent = merge_intent
        self.erasure_intent = erasure_intent

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bring the tables up to date (Alembic migrations)."""
        await asyncio.to_thread(self._migrate)

    def _migrate(self) -> None:
        with self.engine.connect() as conn:
            upgrade_connection(conn)

    async def close(self) -> None:
        """Release every pooled connection."""
        await asyncio.to_thread(self.engine.dispose)

    # --- transactions ----------------------------------------------------------------------------

    def _begin(self, conn: Connection, *, write: bool) -> None:
        raise NotImplementedError

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction (blocking): committed on success, rolled back on any error."""
        with self.engine.connect() as conn:
            self._begin(conn, write=write)
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()

    async def _run(self, work: Callable[[Connection], T], *, write: bool) -> T:
        def in_thread() -> T:
            with self.transaction(write=write) as conn:
                return work(conn)

        return await asyncio.to_thread(in_thread)

    # --- writes ----------------------------------------------------------------------------------

    async def apply(self, envelope: Envelope) -> ApplyResult:
        """Create or update the entity or link an event carries (see ``Store.apply``).

        A created or updated record is told to ``apply_intent`` in the same transaction.
        """
        (result,) = await self.apply_many([(envelope, entity_of(envelope))])
        return result

    async def apply_many(self, events: Sequence[tuple[Envelope, Entity]]) -> list[ApplyResult]:
        """``apply`` for each ``(envelope, entity_of(envelope))``, in order, in one transaction.

        Each created or updated record is told to ``apply_intent`` in that transaction; their
        ``AfterCommit``s run together once it has committed. If one event fails, none is applied.
        """
        priority, intent = self.source_priority, self.apply_intent
        results, afters = await self._run(
            lambda conn: apply_events(conn, events, priority=priority, intent=intent, now=utcnow()),
            write=True,
        )
        if afters:
            await asyncio.gather(*(after() for after in afters))
        return results

    async def _write_then(self, work: Callable[[Connection], tuple[T, AfterCommit | None]]) -> T:
        """Run ``work`` in a write transaction, then, once committed, what its intent asked for."""
        value, after = await self._run(work, write=True)
        if after is not None:
            await after()
        return value

    async def merge(self, survivor_id: str, other_id: str, *, actor: str, reason: str) -> MergeRecord:
        """Fold ``other_id`` into ``survivor_id``, reversibly; tell ``merge_intent``, then ``on_merge``."""
        return await self._merged(
            lambda conn: merging.merge_records(
                conn, survivor_id, other_id, actor=actor, reason=reason, now=utcnow()
            )
        )

    async def unmerge(self, merge_id: str, *, actor: str, reason: str) -> MergeRecord:
        """Undo a merge; tell ``merge_intent``, then ``on_merge`` (the record's ``unmerged_at`` is set)."""
        return await self._merged(
            lambda conn: merging.unmerge_records(conn, merge_id, actor=actor, reason=reason, now=utcnow())
        )

    async def _merged(self, change: Callable[[Connection], MergeRecord]) -> MergeRecord:
        intent = self.merge_intent

        def work(conn: Connection) -> tuple[MergeRecord, AfterCommit | None]:
            record = change(conn)
            return record, None if intent is None else intent(conn, record)

        record = await self._write_then(work)
        if self.on_merge is not None:
            await self.on_merge(record)
        return record

    # --- reads -----------------------------------------------------------------------------------

    async def get(self, entity_id: str, *, clearance: ProtectiveMarking | None = None) -> StoredEntity | None:
        """The current record (its survivor if merged); None if absent or above ``clearance``."""
        return await self._run(lambda conn: reads.get_entity(conn, entity_id, clearance), write=False)

    async def history(self, entity_id: str) -> list[HistoryEntry]:
        """Every alteration of this record, oldest first."""
        return await self._run(lambda conn: reads.history(conn, entity_id), write=False)

    async def provenance(self, entity_id: str) -> list[FieldClaim]:
        """Each source's claim for each field, the chosen ones marked ``current``."""
        priority = self.source_priority
        return await self._run(lambda conn: reads.provenance(conn, entity_id, priority), write=False)

    async def links(
        self,
        entity_id: str,
        roles: Collection[str] | None = None,
        *,
        clearance: ProtectiveMarking | None = None,
    ) -> list[StoredLink]:
        """Links touching this record and records merged with it."""
        wanted = _roles(roles)
        return await self._run(lambda conn: reads.links_of(conn, entity_id, wanted, clearance), write=False)

    async def traverse(
        self,
        entity_id: str,
        hops: int = 2,
        roles: Collection[str] | None = None,
        *,
        clearance: ProtectiveMarking | None = None,
        limit: int = 500,
    ) -> Traversal:
        """Associates within ``hops`` links, nearest first."""
        wanted = _roles(roles)
        return await self._run(
            lambda conn: reads.traverse(
                conn, entity_id, hops=hops, roles=wanted, clearance=clearance, limit=limit
            ),
            write=False,
        )

    async def merges(self, entity_id: str) -> list[MergeRecord]:
        """Every merge this record took part in."""
        return await self._run(lambda conn: merging.merges_of(conn, entity_id), write=False)

    # --- erasure ---------------------------------------------------------------------------------

    async def rows_for_subject(self, subject_id: str) -> list[SubjectRow]:
        """The erasure map: the store's rows and every hook's, for the subject."""

        def locate(conn: Connection) -> tuple[list[SubjectRow], tuple[str, ...]]:
            records = erasing.subject_records(conn, subject_id)
            return erasing.rows_for_subject(conn, records), records.all

        rows, record_ids = await self._run(locate, write=False)
        for hook in self.hooks:
            rows.extend(await hook.locate(record_ids))
        return rows

    async def erase_subject(self, subject_id: str, *, actor: str, reason: str) -> ErasureSummary:
        """Delete the subject's rows, here and in every hook; tell ``erasure_intent``, then ``on_erasure``."""
        if not actor or not reason:
            raise ValueError("an erasure needs an actor and a reason")
        intent = self.erasure_intent

        def work(conn: Connection) -> tuple[ErasureSummary, AfterCommit | None]:
            records, counts = erasing.erase_records(conn, subject_id)
            summary = ErasureSummary(
                subject_id=subject_id,
                actor=actor,
                reason=reason,
                erased_at=utcnow(),
                record_ids=records.all,
                rows=counts,
            )
            return summary, None if intent is None else intent(conn, summary)

        return await self.finish_erasure(await self._write_then(work))

    async def finish_erasure(self, summary: ErasureSummary) -> ErasureSummary:
        """Run every erasure hook for ``summary``'s records; tell ``on_erasure``; return the result.

        ``erase_subject`` calls it. Call it again with ``ErasureIncomplete.summary`` once a
        failed hook's component is back: the store's rows are already gone, so only the
        summary still knows every record id the hooks must forget.
        """
        hook_rows = dict(summary.hook_rows)
        failures: dict[str, str] = {}
        for hook in self.hooks:
            if hook.name in hook_rows:
                continue  # done on an earlier attempt
            try:
                hook_rows[hook.name] = await hook.erase(summary.record_ids)
            except Exception as exc:  # noqa: BLE001 - one failed hook must not stop the others
                failures[hook.name] = f"{type(exc).__name__}: {exc}"
        result = replace(summary, hook_rows=hook_rows, hook_failures=failures)
        if self.on_erasure is not None:
            await self.on_erasure(result)
        if failures:
            raise ErasureIncomplete(result)
        return result


def _roles(roles: Collection[str] | None) -> list[str] | None:
    return None if roles is None else [str(getattr(r, "value", r)) for r in roles]


def _is_a_store(store: SqlStore) -> Store:
    # Not called: mypy checks here that both engines keep the contract.
    return store
