"""A member of a durable consumer group, and the deliveries it hands out.

Dead-lettering is the engine's job (JetStream 2.9 only stops redelivering).
Durables are created with unlimited ``max_deliver`` and each delivery is
checked when it is fetched: one whose ``num_delivered`` is past
``max_attempts`` means the previous attempt was never settled (the member
crashed or overran ``ack_wait``), so it is dead-lettered there and then instead
of being handed out. A failure reported with ``nack`` on the last attempt, or a
``reject``, is dead-lettered by the member that saw it. Either way the dead
letter is written before the original is terminated, so a crash in between
leaves the message to be dead-lettered again (and deduplicated) rather than lost.
This was chosen over listening for ``MAX_DELIVERIES`` advisories because
advisories are core NATS: with no hub listening at that moment one would be
lost, and the message with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from nats.aio.msg import Msg

from polestar.bus.contract import AttemptRecord, BusMessage, ConsumerSpec, Delivery, subject_matches
from polestar.bus.jetstream import _codec
from polestar.bus.jetstream._deadletters import DeadLetterStore
from polestar.bus.jetstream._errors import translated
from polestar.bus.jetstream._history import AttemptHistory
from polestar.bus.jetstream._names import HEADER_REPLAY_GROUP
from polestar.bus.jetstream._puller import PullInbox
from polestar.errors import BusClosed, BusError
from polestar.model.timeutil import utcnow

logger = logging.getLogger(__name__)

UNSETTLED_REASON = "not settled within ack_wait (the member stopped or overran)"


@dataclass(frozen=True, slots=True)
class GroupServices:
    """What a group member needs from its engine."""

    history: AttemptHistory
    dead_letters: DeadLetterStore


class JetStreamDelivery:
    """One delivery of a message to one member; settle it exactly once."""

    def __init__(
        self, spec: ConsumerSpec, services: GroupServices, msg: Msg, message: BusMessage, attempt: int
    ) -> None:
        self._spec = spec
        self._services = services
        self._msg = msg
        self._message = message
        self._attempt = attempt
        self._settled = False

    @property
    def message(self) -> BusMessage:
        """The message delivered."""
        return self._message

    @property
    def attempt(self) -> int:
        """1 for the first delivery, 2 for the first redelivery, and so on."""
        return self._attempt

    def _settle(self) -> None:
        if self._settled:
            raise BusError(f"delivery of sequence {self._message.sequence} was already settled")
        self._settled = True

    async def ack(self) -> None:
        """Done: the group will not see this message again."""
        self._settle()
        with translated("ack"):
            await self._msg.ack()
            if self._attempt > 1:
                await self._services.history.forget(self._spec.group, self._message.sequence)

    async def nack(self, reason: str, *, delay: float | None = None) -> None:
        """Failed: redeliver after ``delay`` or the group's backoff; dead-letter when exhausted."""
        self._settle()
        group, sequence = self._spec.group, self._message.sequence
        with translated("nack"):
            history = await self._services.history.record(group, sequence, self._attempt, reason)
            if self._attempt >= self._spec.max_attempts:
                await self._bury(reason, history)
                return
            wait = self._spec.backoff.delay(self._attempt) if delay is None else delay
            await self._msg.nak(delay=wait)

    async def in_progress(self) -> None:
        """Still working: restart the ack deadline."""
        if self._settled:
            raise BusError(f"delivery of sequence {self._message.sequence} was already settled")
        with translated("in_progress"):
            await self._msg.in_progress()

    async def reject(self, reason: str) -> None:
        """Poison: dead-letter now without further attempts."""
        self._settle()
        with translated("reject"):
            history = await self._services.history.record(
                self._spec.group, self._message.sequence, self._attempt, reason
            )
            await self._bury(reason, history)

    async def _bury(self, reason: str, history: tuple[AttemptRecord, ...]) -> None:
        await bury(self._spec, self._services, self._msg, self._message, reason=reason, history=history)


async def bury(
    spec: ConsumerSpec,
    services: GroupServices,
    msg: Msg,
    message: BusMessage,
    *,
    reason: str,
    history: tuple[AttemptRecord, ...],
) -> None:
    """Dead-letter ``message`` for ``spec.group``, then stop its redelivery."""
    await services.dead_letters.bury(spec.group, message, msg.data, reason, history)
    await msg.term()
    await services.history.forget(spec.group, message.sequence)


def _fill_unsettled(history: tuple[AttemptRecord, ...], attempts: int) -> tuple[AttemptRecord, ...]:
    # Attempts that timed out left no reason behind; the dead letter still lists them.
    seen = {a.attempt for a in history}
    now = utcnow()
    missing = tuple(AttemptRecord(n, now, UNSETTLED_REASON) for n in range(1, attempts + 1) if n not in seen)
    return tuple(sorted((*history, *missing), key=lambda a: a.attempt))


class JetStreamConsumer:
    """One member of a durable group: one durable, or one per partition when ordered by key."""

    def __init__(
        self,
        spec: ConsumerSpec,
        services: GroupServices,
        inbox: PullInbox,
        server_filters_exact: bool,
    ) -> None:
        self._spec = spec
        self._services = services
        self._inbox = inbox
        # JetStream 2.9 takes one filter per consumer: with several, the durable sees every
        # subject and this member skips (acks) those the group did not ask for.
        self._exact = server_filters_exact
        self._batch = 1 if spec.ordered_by_key else None
        self._closed = False
        self._on_close: list[Callable[[JetStreamConsumer], None]] = []

    @property
    def spec(self) -> ConsumerSpec:
        """The group's configuration."""
        return self._spec

    async def fetch(self, max_messages: int = 1, timeout: float = 1.0) -> list[Delivery]:
        """Up to ``max_messages`` deliveries, waiting at most ``timeout`` seconds for the first."""
        if self._closed:
            raise BusClosed(f"consumer for group {self._spec.group} is closed")
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        loop_time = _loop_time()
        deadline = loop_time + max(timeout, 0.0)
        out: list[Delivery] = []
        with translated("fetch"):
            while True:
                # Re-armed before looking, so a status or message arriving meanwhile still wakes us.
                self._inbox.rearm()
                for msg, meta in self._inbox.take(max_messages - len(out)):
                    delivery = await self._admit(msg, meta)
                    if delivery is not None:
                        out.append(delivery)
                remaining = deadline - _loop_time()
                if out or remaining <= 0:
                    return out
                await self._inbox.request(self._batch or max_messages, remaining)
                await self._inbox.wait(remaining)

    async def _admit(self, msg: Msg, meta: Msg.Metadata) -> Delivery | None:
        """The delivery to hand out, or None when this member settled it itself."""
        sequence, attempt = meta.sequence.stream, meta.num_delivered
        replay_group = msg.headers.get(HEADER_REPLAY_GROUP) if msg.headers else None
        if replay_group is not None and replay_group != self._spec.group:
            await msg.ack()  # a dead letter sent back to another group
            return None
        try:
            message = _codec.bus_message(sequence, msg.subject, msg.data, meta.timestamp)
        except ValueError:
            logger.warning("terminating sequence %d on %s: not a Polestar envelope", sequence, msg.subject)
            await msg.term()
            return None
        if not self._exact and not any(subject_matches(p, message.subject) for p in self._spec.subjects):
            await msg.ack()
            return None
        if attempt > self._spec.max_attempts:
            history = await self._services.history.read(self._spec.group, sequence)
            last = self._spec.max_attempts
            # The last attempt may have failed with a reason and died before dead-lettering.
            reason = history[-1].reason if history and history[-1].attempt >= last else UNSETTLED_REASON
            history = _fill_unsettled(history, last)
            await bury(self._spec, self._services, msg, message, reason=reason, history=history)
            return None
        return JetStreamDelivery(self._spec, self._services, msg, message, attempt)

    def on_close(self, callback: Callable[[JetStreamConsumer], None]) -> None:
        """Call ``callback`` when this member leaves (the engine stops tracking it)."""
        self._on_close.append(callback)

    def discard_buffered(self) -> None:
        """Forget prefetched deliveries: the group's durables were recreated and they are stale."""
        self._inbox.reset()

    async def close(self) -> None:
        """Leave the group; unsettled deliveries will be redelivered to others."""
        if self._closed:
            return
        self._closed = True
        for callback in self._on_close:
            callback(self)
        with translated("close consumer"):
            await self._inbox.close()


def _loop_time() -> float:
    return asyncio.get_running_loop().time()
