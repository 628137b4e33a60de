"""Running a handler over a consumer: fetch, handle, settle, with no engine in sight.

``run_consumer`` is the loop every subscriber of the bus would otherwise write
again: it fetches deliveries, runs an async handler on each with bounded
concurrency, acknowledges on success, ``nack``s with the error on failure and
dead-letters at once when the handler raises ``Reject``. While a handler runs
it sends ``in_progress`` so a slow one keeps its lease. It uses only the
contract, so it runs unchanged on either engine.

Per-key ordering needs nothing here: an ordered group never hands out two
messages of one key at once, and the next one only after this one is settled.

``ack_all`` and ``forward`` are for code that handles a whole batch itself (a
router, a sink writing in bulk): one write for the batch instead of one call
per delivery, and on the embedded engine a router's outputs and the
acknowledgement of its inputs commit together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from polestar.bus.contract import BatchSettlement, BusEngine, Consumer, Delivery, PublishAck
from polestar.errors import BusClosed, BusError, PolestarError
from polestar.model.envelope import Envelope

log = logging.getLogger(__name__)

Handler = Callable[[Envelope], Awaitable[None]]
"""Processes one event; returning means done, raising means failed."""

DeliveryHandler = Callable[[Delivery], Awaitable[None]]
"""Like ``Handler`` but given the whole delivery (attempt number, sequence, subject)."""

MAX_REASON = 1000
"""Characters of an error message kept as a nack or dead-letter reason."""


class Reject(PolestarError):  # noqa: N818 - the verb the handler means, as Delivery.reject
    """Raised by a handler for a poison message: dead-letter it now, retrying cannot help."""


@dataclass(slots=True)
class WorkerStats:
    """What one ``run_consumer`` call did."""

    acked: int = 0
    nacked: int = 0
    rejected: int = 0


async def run_consumer(
    consumer: Consumer,
    handler: Handler | None = None,
    *,
    delivery_handler: DeliveryHandler | None = None,
    stop_event: asyncio.Event,
    concurrency: int = 16,
    fetch_timeout: float = 0.5,
    heartbeat: float | None = None,
) -> WorkerStats:
    """Handle deliveries from ``consumer`` until ``stop_event`` is set or the bus closes.

    Args:
        consumer: a member of a consumer group; the caller closes it afterwards.
        handler: called with each envelope (give this or ``delivery_handler``).
        delivery_handler: called with each delivery, for handlers that need the attempt.
        stop_event: set it to stop; handlers running then are allowed to finish.
        concurrency: most handlers running at once.
        fetch_timeout: seconds one fetch waits, which bounds how fast a stop is noticed.
        heartbeat: seconds between ``in_progress`` calls for a running handler
            (default: a third of the group's ``ack_wait``).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if handler is not None and delivery_handler is None:
        handle = _on_envelope(handler)
    elif delivery_handler is not None and handler is None:
        handle = delivery_handler
    else:
        raise ValueError("give exactly one of handler and delivery_handler")
    beat = heartbeat if heartbeat is not None else consumer.spec.ack_wait / 3
    stats = WorkerStats()
    running: dict[asyncio.Task[None], _Running] = {}
    # One heartbeat loop for all running handlers: a task per delivery would cost more
    # than most handlers do.
    heart = asyncio.create_task(_heartbeat(running, beat))
    try:
        while not stop_event.is_set():
            if len(running) >= concurrency:
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                deliveries = await consumer.fetch(concurrency - len(running), timeout=fetch_timeout)
            except BusClosed:
                break
            loop = asyncio.get_running_loop()
            for delivery in deliveries:
                task = asyncio.create_task(_settle(delivery, handle, stats))
                running[task] = _Running(delivery, loop.time())
                task.add_done_callback(running.pop)
    finally:
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        heart.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heart
    return stats


async def ack_all(bus: BusEngine, deliveries: Sequence[Delivery]) -> None:
    """Acknowledge ``deliveries`` in one step where the engine can (``BatchSettlement``)."""
    if isinstance(bus, BatchSettlement):
        await bus.ack_many(deliveries)
    else:
        await asyncio.gather(*(delivery.ack() for delivery in deliveries))


async def forward(
    bus: BusEngine, items: Sequence[tuple[Envelope, str | None]], deliveries: Sequence[Delivery]
) -> list[PublishAck]:
    """Publish ``items`` then acknowledge ``deliveries`` (atomically on the embedded engine).

    What a router does with a batch: if it fails, nothing is acknowledged and the
    inputs come again, so the outputs are published at least once.
    """
    if isinstance(bus, BatchSettlement):
        return await bus.forward(items, deliveries)
    acks = await bus.publish_many(items)
    await ack_all(bus, deliveries)
    return acks


@dataclass(slots=True)
class _Running:
    delivery: Delivery
    last_beat: float


def _on_envelope(handler: Handler) -> DeliveryHandler:
    async def handle(delivery: Delivery) -> None:
        await handler(delivery.message.envelope)

    return handle


async def _settle(delivery: Delivery, handle: DeliveryHandler, stats: WorkerStats) -> None:
    try:
        await handle(delivery)
    except Reject as exc:
        await _quietly(delivery.reject(_reason(exc)))
        stats.rejected += 1
    except Exception as exc:  # noqa: BLE001 - any handler failure becomes a nack, never a lost message
        await _quietly(delivery.nack(_reason(exc)))
        stats.nacked += 1
    else:
        await _quietly(delivery.ack())
        stats.acked += 1


async def _heartbeat(running: dict[asyncio.Task[None], _Running], beat: float) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(beat / 2)
        now = loop.time()
        due = [r for r in list(running.values()) if now - r.last_beat >= beat]
        for item in due:
            item.last_beat = now
        await asyncio.gather(*(_quietly(item.delivery.in_progress()) for item in due))


async def _quietly(settlement: Awaitable[None]) -> None:
    # A settlement that fails (bus closed, broker away) leaves the lease to lapse, so the
    # message is redelivered: logging is all there is left to do here.
    try:
        await settlement
    except BusError as exc:
        log.warning("could not settle a delivery: %s", exc)


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return text[:MAX_REASON]
