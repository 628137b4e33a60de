"""``StoreWriter``: the bus consumer that writes canonical events into the store, idempotently.

::

    writer = StoreWriter(bus, store)
    stats = await writer.run(stop)          # until stop is set

Deliveries come in batches (``batch_size``): a batch is applied in one store
transaction that also records each envelope id (and each audit intent), so a
redelivery (the hub died after the commit, before the ack) changes nothing
twice; derived data is then brought up to date for the whole batch
(``after_batch``) and the batch is acknowledged in one step. One transaction
and one acknowledgement per batch instead of per event is what makes the
store keep up with the bus.

An event that does not fit (no schema, an unknown or too new schema, invalid
data, not an entity) is dead-lettered at once with the reason. If anything
else fails for a batch, its events are retried one at a time, so a poison
event fails (and is retried by the bus, then dead-lettered) alone and the rest
are stored; a failure that is not the event's (the database is away) fails
each of them, and the bus retries them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence

from polestar.bus.contract import BusEngine, ConsumerSpec, Delivery
from polestar.bus.worker import MAX_REASON, Reject, WorkerStats, ack_all
from polestar.errors import BusClosed
from polestar.model.common import Entity
from polestar.model.envelope import Envelope
from polestar.store.contract import Store
from polestar.store.errors import NotAnEntity
from polestar.store.records import ApplyResult, Outcome
from polestar.store.writes import entity_of

log = logging.getLogger(__name__)

AppliedRecorder = Callable[[Envelope, ApplyResult], Awaitable[None]]
"""Told, after the commit, of each event that created or changed a record.

It is told only of ``created`` and ``updated`` results (record id, kind, version and the
*names* of the changed fields, never their values). Raising fails the delivery, which the
bus retries; the store then reports the event as a duplicate, so a recorder that failed
(or a process that died before it ran) is not told again. What must not be lost that way,
the audit log's collection and alteration entries, is recorded inside the apply's own
transaction instead, by the store's ``apply_intent`` (``polestar.store.intents``).
"""

AfterApply = Callable[[Envelope, ApplyResult], Awaitable[None]]
"""Told of every applied event, whatever the outcome (duplicates too): keeps derived data current.

Search keys and entity resolution hang here. It must be idempotent: it runs
again for a redelivered event whose earlier attempt failed after the commit.
Raising fails the delivery, which the bus retries (and dead-letters in the end).
"""

AfterBatch = Callable[[Sequence[tuple[Envelope, ApplyResult]]], Awaitable[None]]
"""``AfterApply`` for a whole batch at once (one refresh of the search keys for all of it).

If it raises, each event of the batch is retried alone (the store reports it a
duplicate, and ``after_apply`` runs for it), so it must be idempotent too.
"""

DEFAULT_GROUP = "store-writer"
DEFAULT_BATCH = 100
DEFAULT_SUBJECTS = (">",)
_CHANGES = frozenset({Outcome.CREATED, Outcome.UPDATED})


class StoreWriter:
    """Consumes canonical POLE events from the bus into the store.

    Args:
        bus: a started bus engine.
        store: a started store.
        group: the durable consumer group (one per hub: its members compete).
        subjects: subject filters of the events to store.
        batch_size: most events applied in one transaction; events of one partition key stay
            in order (an ordered group hands out one of each key at a time).
        on_applied: told of each event that created or updated a record (default: nobody).
        after_apply: told of every applied event, after ``on_applied`` (default: nobody).
        after_batch: told of a batch's applied events at once instead (default: ``after_apply``
            for each); an event retried alone is told to ``after_apply``.
        pole_only: acknowledge, without storing, events that carry no ``dataschema`` (notices
            and requests that are not POLE records); an event that names a schema and does
            not fit it is still dead-lettered.
    """

    def __init__(
        self,
        bus: BusEngine,
        store: Store,
        *,
        group: str = DEFAULT_GROUP,
        subjects: Sequence[str] = DEFAULT_SUBJECTS,
        batch_size: int = DEFAULT_BATCH,
        max_attempts: int = 5,
        ack_wait: float = 30.0,
        on_applied: AppliedRecorder | None = None,
        after_apply: AfterApply | None = None,
        after_batch: AfterBatch | None = None,
        pole_only: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.bus = bus
        self.store = store
        self.spec = ConsumerSpec(
            group=group,
            subjects=tuple(subjects),
            ordered_by_key=True,  # versions of one entity arrive in the order they were published
            max_attempts=max_attempts,
            ack_wait=ack_wait,
        )
        self.batch_size = batch_size
        self.on_applied = on_applied
        self.after_apply = after_apply
        self.after_batch = after_batch
        self.pole_only = pole_only
        self.skipped = 0
        """Events acknowledged without storing (``pole_only``)."""

    async def handle(self, envelope: Envelope) -> ApplyResult | None:
        """Apply one event; ``Reject`` (dead-letter) if it carries nothing the store can hold.

        None if ``pole_only`` and the event names no schema (acknowledged, not stored).
        """
        if self.pole_only and envelope.dataschema is None:
            self.skipped += 1
            return None
        try:
            result = await self.store.apply(envelope)
        except NotAnEntity as exc:
            raise Reject(str(exc)) from exc
        log.debug("stored %s %s v%s: %s", result.kind, result.entity_id, result.version, result.outcome)
        if self.on_applied is not None and result.outcome in _CHANGES:
            await self.on_applied(envelope, result)
        if self.after_apply is not None:
            await self.after_apply(envelope, result)
        return result

    async def handle_batch(self, events: Sequence[tuple[Envelope, Entity]]) -> list[ApplyResult]:
        """Apply events (each with the entity ``entity_of`` read from it) in one store transaction.

        Then ``on_applied`` and ``after_batch`` are told. Raises whatever failed; what
        was committed stays committed (see ``AfterBatch``).
        """
        results = await self.store.apply_many(events)
        applied = [(envelope, result) for (envelope, _), result in zip(events, results, strict=True)]
        if self.on_applied is not None:
            for envelope, result in applied:
                if result.outcome in _CHANGES:
                    await self.on_applied(envelope, result)
        if self.after_batch is not None:
            await self.after_batch(applied)
        elif self.after_apply is not None:
            for envelope, result in applied:
                await self.after_apply(envelope, result)
        return results

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Consume until ``stop`` is set or the bus closes; a batch being applied is finished first."""
        consumer = await self.bus.subscribe(self.spec)
        stats = WorkerStats()
        try:
            while not stop.is_set():
                try:
                    deliveries = await consumer.fetch(self.batch_size, timeout=0.5)
                except BusClosed:
                    break
                if deliveries:
                    await self._settle(deliveries, stats)
        finally:
            await consumer.close()
        return stats

    async def _settle(self, deliveries: Sequence[Delivery], stats: WorkerStats) -> None:
        done: list[Delivery] = []
        batch: list[Delivery] = []
        events: list[tuple[Envelope, Entity]] = []
        for delivery in deliveries:
            envelope = delivery.message.envelope
            if self.pole_only and envelope.dataschema is None:
                self.skipped += 1
                done.append(delivery)
                continue
            try:
                events.append((envelope, entity_of(envelope)))
            except NotAnEntity as exc:
                await _quietly(delivery.reject(str(exc)[:MAX_REASON]))
                stats.rejected += 1
                continue
            batch.append(delivery)
        if batch:
            leases = asyncio.create_task(_keep_leases(batch, self.spec.ack_wait / 3))
            try:
                await self.handle_batch(events)
                done += batch
            except Exception as exc:  # noqa: BLE001 - any failure: retry alone, so a poison event fails alone
                log.info("a batch of %d events failed (%s); applying them one at a time", len(batch), exc)
                done += await self._one_at_a_time(batch, stats)
            finally:
                leases.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await leases
        if done:
            await _quietly(ack_all(self.bus, done))
            stats.acked += len(done)

    async def _one_at_a_time(self, batch: Sequence[Delivery], stats: WorkerStats) -> list[Delivery]:
        succeeded = []
        for delivery in batch:
            try:
                await self.handle(delivery.message.envelope)
            except Reject as exc:  # e.g. an id the store holds as another kind
                await _quietly(delivery.reject(str(exc)[:MAX_REASON]))
                stats.rejected += 1
            except Exception as exc:  # noqa: BLE001 - the bus retries it, then dead-letters it
                await _quietly(delivery.nack(_reason(exc)))
                stats.nacked += 1
            else:
                succeeded.append(delivery)
        return succeeded


async def _keep_leases(deliveries: Sequence[Delivery], beat: float) -> None:
    while True:
        await asyncio.sleep(beat)
        await asyncio.gather(*(_quietly(d.in_progress()) for d in deliveries))


async def _quietly(settlement: Awaitable[None]) -> None:
    # A settlement that fails (bus closed, broker away) leaves the lease to lapse, so the
    # message is redelivered: logging is all there is left to do here.
    try:
        await settlement
    except Exception as exc:  # noqa: BLE001 - see above
        log.warning("could not settle a delivery: %s", exc)


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:MAX_REASON]
