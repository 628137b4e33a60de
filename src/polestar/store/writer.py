"""``StoreWriter``: the bus consumer that writes canonical events into the store, idempotently.

::

    writer = StoreWriter(bus, store)
    stats = await writer.run(stop)          # until stop is set

Each delivery is applied in one store transaction that also records its
envelope id, so a redelivery (the hub died after the commit, before the ack)
changes nothing twice. An event that does not fit (no schema, an unknown or
too new schema, invalid data, not an entity) is dead-lettered at once with the
reason; any other failure (the database is away) is retried by the bus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from polestar.bus.contract import BusEngine, ConsumerSpec
from polestar.bus.worker import Reject, WorkerStats, run_consumer
from polestar.model.envelope import Envelope
from polestar.store.contract import Store
from polestar.store.errors import NotAnEntity
from polestar.store.records import ApplyResult, Outcome

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

DEFAULT_GROUP = "store-writer"
DEFAULT_SUBJECTS = (">",)
_CHANGES = frozenset({Outcome.CREATED, Outcome.UPDATED})


class StoreWriter:
    """Consumes canonical POLE events from the bus into the store.

    Args:
        bus: a started bus engine.
        store: a started store.
        group: the durable consumer group (one per hub: its members compete).
        subjects: subject filters of the events to store.
        concurrency: events applied at once; events of one partition key stay in order.
        on_applied: told of each event that created or updated a record (default: nobody).
        after_apply: told of every applied event, after ``on_applied`` (default: nobody).
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
        concurrency: int = 4,
        max_attempts: int = 5,
        ack_wait: float = 30.0,
        on_applied: AppliedRecorder | None = None,
        after_apply: AfterApply | None = None,
        pole_only: bool = False,
    ) -> None:
        self.bus = bus
        self.store = store
        self.spec = ConsumerSpec(
            group=group,
            subjects=tuple(subjects),
            ordered_by_key=True,  # versions of one entity arrive in the order they were published
            max_attempts=max_attempts,
            ack_wait=ack_wait,
        )
        self.concurrency = concurrency
        self.on_applied = on_applied
        self.after_apply = after_apply
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

    async def _handle(self, envelope: Envelope) -> None:
        await self.handle(envelope)

    async def run(self, stop: asyncio.Event) -> WorkerStats:
        """Consume until ``stop`` is set or the bus closes."""
        consumer = await self.bus.subscribe(self.spec)
        try:
            return await run_consumer(consumer, self._handle, stop_event=stop, concurrency=self.concurrency)
        finally:
            await consumer.close()
