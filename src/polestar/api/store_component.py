"""The POLE store as a component of the running API: store, search keys, resolution, the bus consumer.

``StoreComponent`` opens the store at ``config.store_url`` (SQLite under the
data folder in the embedded profile, PostgreSQL in the cluster) and runs its
migrations; creates the search keys (people, places, events) and the review
queue beside it; registers their erasure hooks; and, once the bus is up, runs
the ``StoreWriter`` consumer that writes every canonical POLE event into the
store idempotently (events naming no schema are not POLE records and are
acknowledged; one that names a schema and does not fit is dead-lettered with
the reason). It applies a batch of events at a time; after each batch it
refreshes the records' search keys in one transaction and resolves incoming
people, vehicles and locations (merge, review or new) before the batch is
acknowledged.

What the store does is told to the audit log: applies (collection,
alteration) and merges and unmerges (combination) as intents in the store's own
transaction (``store_audit.StoreAudit``), so a crash after the commit loses no
entry; erasures once done.

A store that cannot start does not stop the hub: ``/ready`` names it, search
answers 503, and the component retries with a capped exponential delay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from polestar.api.health import ComponentStatus
from polestar.api.store_audit import StoreAudit
from polestar.model.envelope import Envelope
from polestar.resolution import Resolution, ResolutionError, ResolutionPolicy, Resolver
from polestar.resolution.batch import worth_resolving
from polestar.resolution.objects import ObjectResolver
from polestar.search import SearchIndex
from polestar.search.api import SearchServices
from polestar.search.errors import SearchUnavailable
from polestar.search.place_index import INDEXED_KINDS, PlaceIndex
from polestar.store import ApplyResult, ErasureHooks, Outcome, SqlStore, StoreError, StoreWriter, open_store

if TYPE_CHECKING:
    from polestar.api.audit_component import AuditComponent
    from polestar.api.bus_component import BusComponent
    from polestar.config import HubConfig

log = logging.getLogger("polestar.api.store")

_RESOLVED_KINDS = frozenset({"person", "vehicle", "location"})
_NOTHING_NEW = frozenset({Outcome.UNCHANGED, Outcome.STALE})
RESOLVING_AT_ONCE = 4
"""Records of one batch resolved concurrently (two of one person still reach one merge)."""


class StoreComponent:
    """The store, its search keys and resolver, and the bus consumer feeding them, for the hub's lifetime.

    Args:
        config: the hub configuration (``store_url``).
        bus: the hub's bus component (the writer starts once its engine is up).
        audit: the audit component whose recorders are told of applies, merges and erasures.
        policy: entity resolution thresholds (default: the hub configuration's ``resolution``).
        retry_initial: seconds before retrying a store that did not start; doubles up to ``retry_max``.
    """

    def __init__(
        self,
        config: HubConfig,
        bus: BusComponent,
        *,
        audit: AuditComponent | None = None,
        policy: ResolutionPolicy | None = None,
        retry_initial: float = 1.0,
        retry_max: float = 30.0,
    ) -> None:
        recording = audit if audit is not None and audit.enabled else None
        # The audit log opens the same store_url, so the store's transactions can carry its intents.
        promises = StoreAudit(recording) if recording is not None else None
        self.hooks = ErasureHooks()
        self.store: SqlStore = open_store(
            config.store_url,
            hooks=self.hooks,
            apply_intent=promises.applied if promises is not None else None,
            merge_intent=promises.merged if promises is not None else None,
            erasure_intent=promises.erased if promises is not None else None,
        )
        self.index = SearchIndex(self.store.engine)
        self.places = PlaceIndex(self.store.engine)
        self.resolver = Resolver(self.store, self.index, policy=policy or config.resolution)
        self.objects = ObjectResolver(self.resolver, self.places)
        self.hooks.register(self.index)
        self.hooks.register(self.resolver)
        self.writer = StoreWriter(
            _BusOf(bus),  # type: ignore[arg-type] # resolved once the engine is up (see _write)
            self.store,
            after_apply=self.after_apply,
            after_batch=self.after_batch,
            pole_only=True,
        )
        self._bus = bus
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.running = False
        self.status = ComponentStatus.STARTING
        self.reason: str | None = "opening the store"

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (one attempt now, retries in the background), then consume from the bus."""
        if await self._open():
            self._tasks.append(asyncio.create_task(self._write(), name="polestar-store-writer"))
        else:
            self._tasks.append(asyncio.create_task(self._keep_opening(), name="polestar-store-open"))

    async def _open(self) -> bool:
        try:
            await self.store.start()
            await self.index.start()
            await self.places.start()
            await self.resolver.start()
        except Exception as exc:  # noqa: BLE001 - reported by /ready and retried, never fatal to the hub
            self.status, self.reason = (
                ComponentStatus.UNAVAILABLE,
                f"the store did not start: {_describe(exc)}",
            )
            log.warning("%s", self.reason)
            return False
        self.running = True
        self.status, self.reason = ComponentStatus.OK, None
        return True

    async def _keep_opening(self) -> None:
        delay = self._retry_initial
        while not await self._open():
            self.reason = f"{self.reason}; retrying in {delay:g} s"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            if self._stop.is_set():
                return
            delay = min(delay * 2, self._retry_max)
        await self._write()

    async def _write(self) -> None:
        """Consume canonical events into the store until stopped; restart the consumer if it fails."""
        delay = self._retry_initial
        while not self._stop.is_set():
            if self._bus.engine is None:
                await asyncio.sleep(0.2)
                continue
            try:
                stats = await self.writer.run(self._stop)
                log.info("store writer stopped: %s", stats)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the bus went away: consume again once it is back
                log.warning("the store writer stopped: %s; restarting in %g s", _describe(exc), delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                delay = min(delay * 2, self._retry_max)
            else:
                delay = self._retry_initial
                if not self._stop.is_set():
                    await asyncio.sleep(0.5)  # the bus closed under it: wait for the next engine

    async def close(self) -> None:
        """Stop consuming (letting running applies finish), then close the store."""
        self.status = ComponentStatus.STOPPING
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), 10)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.running = False
        await self.store.close()

    def check(self) -> tuple[ComponentStatus, str | None]:
        """The store's readiness: ok once migrated and open."""
        return self.status, self.reason

    def services(self) -> SearchServices:
        """The running store and indexes for the search routes; ``SearchUnavailable`` if not running."""
        if not self.running:
            raise SearchUnavailable(f"the store is not running ({self.reason or self.status.value})")
        return SearchServices(store=self.store, index=self.index, places=self.places)

    # --- after each apply ------------------------------------------------------------------------

    async def after_apply(self, envelope: Envelope, result: ApplyResult) -> None:
        """Keep the record's search keys current, then resolve it (people, vehicles, locations).

        Duplicates run too: a redelivery after a failure here must finish the job. Both
        steps are idempotent. A record that went away meanwhile (erased, or merged by a
        parallel resolution) is logged, not retried.
        """
        if result.outcome in _NOTHING_NEW:
            return
        if result.kind not in _RESOLVED_KINDS:
            if result.kind in INDEXED_KINDS:  # events; the resolvers refresh what they resolve
                await self.places.refresh([result.entity_id])
            return
        try:
            if result.kind == "person":
                outcome = await self.resolver.resolve(result.entity_id)
            else:
                outcome = await self.objects.resolve(result.entity_id)
        except (ResolutionError, StoreError) as exc:
            log.info("resolution of %s %s skipped: %s", result.kind, result.entity_id, exc)
            return
        log.debug("resolved %s %s: %s (%s)", result.kind, result.entity_id, outcome.outcome, outcome.reason)

    async def after_batch(self, applied: Sequence[tuple[Envelope, ApplyResult]]) -> None:
        """``after_apply`` for a batch: every record's search keys in one transaction, then resolution.

        Resolution reads the keys of the whole batch, so two records of one person arriving
        together find each other (``Resolver.elder_first`` makes both reach one merge).
        An update that changed no field resolution compares is not resolved again, and the
        batch's reads and review writes are shared (``polestar.resolution.batch``).
        """
        fresh = [r for _, r in applied if r.outcome not in _NOTHING_NEW]
        people = list(dict.fromkeys(r.entity_id for r in fresh if r.kind == "person"))
        objects = list(dict.fromkeys(r.entity_id for r in fresh if r.kind in _RESOLVED_KINDS - {"person"}))
        places = [*objects, *dict.fromkeys(r.entity_id for r in fresh if r.kind in INDEXED_KINDS)]
        if not people and not places:
            return

        def refresh(conn: Connection) -> None:
            if people:
                self.index.refresh_blocking(conn, people)
            if places:
                self.places.refresh_blocking(conn, sorted(set(places)))

        def in_thread() -> None:
            with self.store.transaction(write=True) as conn:
                refresh(conn)

        await asyncio.to_thread(in_thread)
        # Only what could decide differently; an update of other fields keeps its decision.
        worth = {r.entity_id for r in fresh if worth_resolving(r.kind, r.outcome, r.changed_fields)}
        people = [i for i in people if i in worth]
        objects = [i for i in objects if i in worth]
        # A few at once, as the per-event consumer did: one waits on a commit while another reads.
        slots = asyncio.Semaphore(RESOLVING_AT_ONCE)
        # The batch's records read at once, its reviews written in one transaction.
        async with self.resolver.batched([*people, *objects]) as batch:
            decided = await asyncio.gather(
                *(self._resolve(slots, self.resolver.resolve, "person", record_id) for record_id in people),
                *(self._resolve(slots, self.objects.resolve, "object", record_id) for record_id in objects),
            )
        for kind, found in decided:
            if found is not None:
                outcome = batch.settled(found)
                log.debug(
                    "resolved %s %s: %s (%s; review %s)",
                    kind,
                    outcome.record_id,
                    outcome.outcome,
                    outcome.reason,
                    outcome.review_id,
                )

    async def _resolve(
        self,
        slots: asyncio.Semaphore,
        resolve: Callable[..., Awaitable[Resolution]],
        kind: str,
        record_id: str,
    ) -> tuple[str, Resolution | None]:
        try:
            async with slots:
                return kind, await resolve(record_id, refreshed=True)
        except (ResolutionError, StoreError) as exc:
            log.info("resolution of %s %s skipped: %s", kind, record_id, exc)
            return kind, None


class _BusOf:
    """The bus component's current engine, so the writer can be built before the bus is up."""

    def __init__(self, component: BusComponent) -> None:
        self._component = component

    def __getattr__(self, name: str) -> object:
        engine = self._component.engine
        if engine is None:
            raise StoreError("the bus is not connected")
        return getattr(engine, name)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
