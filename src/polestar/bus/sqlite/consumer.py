"""A member of a durable consumer group on the SQLite engine, and its deliveries."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence

from pydantic import ValidationError

from polestar.bus.contract import BusMessage, ConsumerSpec, Delivery
from polestar.bus.sqlite import claims, settling
from polestar.bus.sqlite.admin import rules_of
from polestar.bus.sqlite.core import BusCore
from polestar.bus.sqlite.recent import Recent
from polestar.bus.sqlite.rows import Claimed, now
from polestar.errors import BusClosed, BusError

log = logging.getLogger(__name__)


class SqliteDelivery:
    """One lease of one message to one member; settle it once (``in_progress`` any number of times)."""

    __slots__ = ("_attempt", "_consumer", "_message", "_settled", "_token")

    def __init__(self, consumer: SqliteConsumer, message: BusMessage, attempt: int, token: str) -> None:
        self._consumer = consumer
        self._message = message
        self._attempt = attempt
        self._token = token
        self._settled = False

    @property
    def message(self) -> BusMessage:
        """The message delivered."""
        return self._message

    @property
    def attempt(self) -> int:
        """1 for the first delivery, 2 for the first redelivery, and so on."""
        return self._attempt

    async def ack(self) -> None:
        """Done: the group will not see this message again."""
        item = self.take_ack()
        if item is not None:
            core = self._consumer.core
            acks = core.ordered_acks if item[0].ordered else core.acks
            await acks.submit([item])

    def take_ack(self) -> settling.AckItem | None:
        """Mark this delivery settled and say what to delete, or None if it was settled already."""
        if not self._begin_settle():
            return None
        message = self._message
        return (self._consumer.rules, message.sequence, self._token, message.key)

    @property
    def core(self) -> BusCore:
        """The engine this delivery came from."""
        return self._consumer.core

    async def nack(self, reason: str, *, delay: float | None = None) -> None:
        """Failed: redeliver after ``delay`` or the group's backoff; dead-letter when exhausted."""
        if self._begin_settle():
            spec = self._consumer.spec
            wait = spec.backoff.delay(self._attempt) if delay is None else max(0.0, delay)
            op = functools.partial(
                settling.nack,
                rules=self._consumer.rules,
                seq=self._seq,
                token=self._token,
                key=self._key,
                reason=reason,
                delay=wait,
            )
            await self._consumer.core.run(op, wakes=True)

    async def in_progress(self) -> None:
        """Still working: restart the ack deadline."""
        if not self._settled:
            op = functools.partial(
                settling.in_progress, rules=self._consumer.rules, seq=self._seq, token=self._token
            )
            await self._consumer.core.run(op, durable=False)  # lost: the lease just ends sooner

    async def reject(self, reason: str) -> None:
        """Poison: dead-letter now without further attempts."""
        if self._begin_settle():
            op = functools.partial(
                settling.reject,
                rules=self._consumer.rules,
                seq=self._seq,
                token=self._token,
                key=self._key,
                reason=reason,
            )
            await self._consumer.core.run(op, wakes=True)

    @property
    def _seq(self) -> int:
        return self._message.sequence

    @property
    def _key(self) -> str | None:
        return self._message.key

    def _begin_settle(self) -> bool:
        # A second settle is ignored, as JetStream ignores a second ack.
        if self._settled:
            return False
        self._settled = True
        self._consumer.forget(self._token, self._message.sequence)
        return True


class SqliteConsumer:
    """One member of a durable group. Members compete: each message goes to one of them."""

    def __init__(self, core: BusCore, spec: ConsumerSpec) -> None:
        self.core = core
        self._spec = spec
        self.rules = rules_of(spec)
        self._closed = False
        self._unsettled: set[tuple[str, int]] = set()

    @property
    def spec(self) -> ConsumerSpec:
        """The group's configuration."""
        return self._spec

    async def fetch(self, max_messages: int = 1, timeout: float = 1.0) -> list[Delivery]:
        """Up to ``max_messages`` deliveries, waiting at most ``timeout`` seconds for the first."""
        if max_messages < 1:
            raise ValueError("max_messages must be at least 1")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, timeout)
        op = functools.partial(
            claims.claim, rules=self.rules, max_messages=max_messages, recent=self.core.recent
        )
        while True:
            if self._closed:
                raise BusClosed(f"consumer of group {self._spec.group!r} is closed")
            woken = self.core.signal.current()
            # A lease lost to a power cut is a redelivery: no fsync needed (see ``writer``).
            result = await self.core.run(op, durable=False)
            deliveries = await self._deliveries(result.claimed)
            if deliveries:
                return deliveries
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            # Sleep until a local commit wakes us, the next lease or backoff falls due,
            # or it is time to look for work another process wrote.
            pause = min(remaining, self.core.poll_interval)
            if result.next_ready is not None:
                pause = min(pause, max(0.0, result.next_ready - now()) + 0.001)
            await self.core.signal.wait(woken, pause)

    async def close(self) -> None:
        """Leave the group; unsettled deliveries go back to the group at once."""
        if self._closed:
            return
        self._closed = True
        if self._unsettled and not self.core.closed:
            leases = list(self._unsettled)
            self._unsettled.clear()
            op = functools.partial(settling.release, rules=self.rules, leases=leases)
            await self.core.run(op, wakes=True, durable=False)

    def forget(self, token: str, seq: int) -> None:
        """A delivery was settled; it need not be released on close."""
        self._unsettled.discard((token, seq))

    async def _deliveries(self, claimed: list[Claimed]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        for item in claimed:
            if isinstance(item.message, Recent):
                message = item.message.message()
                self._unsettled.add((item.token, message.sequence))
                deliveries.append(SqliteDelivery(self, message, item.attempt, item.token))
                continue
            try:
                message = item.message.decode()
            except ValidationError as exc:
                # Only a corrupt file or an incompatible model change gets here: publish
                # validates every envelope. Park it for an operator rather than loop on it.
                log.exception("undecodable message %s in group %s", item.message.seq, self._spec.group)
                op = functools.partial(
                    settling.reject,
                    rules=self.rules,
                    seq=item.message.seq,
                    token=item.token,
                    key=item.message.key,
                    reason=f"undecodable envelope: {exc.error_count()} error(s)",
                )
                await self.core.run(op, wakes=True)
                continue
            self._unsettled.add((item.token, item.message.seq))
            deliveries.append(SqliteDelivery(self, message, item.attempt, item.token))
        return deliveries


def take_acks(core: BusCore, deliveries: Sequence[Delivery]) -> list[settling.AckItem]:
    """Settle ``deliveries`` as acknowledged and return what the writer must delete.

    Every one must come from the engine owning ``core``; that is checked before any
    is marked settled, so a refused batch leaves them all as they were.
    """
    mine: list[SqliteDelivery] = []
    for delivery in deliveries:
        if not isinstance(delivery, SqliteDelivery) or delivery._consumer.core is not core:
            raise BusError(
                f"cannot settle a {type(delivery).__name__} here: it is not a delivery of this SQLite engine"
            )
        mine.append(delivery)
    # ``take_ack`` inlined: a router or sink settles hundreds at a time on the event loop.
    items: list[settling.AckItem] = []
    for delivery in mine:
        if delivery._settled:
            continue  # a second settle is ignored, as by ``ack``
        delivery._settled = True
        consumer, message, token = delivery._consumer, delivery._message, delivery._token
        consumer._unsettled.discard((token, message.sequence))
        items.append((consumer.rules, message.sequence, token, message.key))
    return items
