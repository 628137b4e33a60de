"""The JetStream engine: the bus contract on NATS JetStream for the cluster profile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from datetime import datetime

import nats
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext

from polestar.bus.config import JetStreamBusConfig
from polestar.bus.contract import (
    BusMessage,
    BusStats,
    Consumer,
    ConsumerSpec,
    DeadLetter,
    Delivery,
    PublishAck,
    RequestHandler,
    Responder,
    check_subject,
)
from polestar.bus.jetstream import _groups, _reader, _rpc, _streams, _tail
from polestar.bus.jetstream._consumer import GroupServices, JetStreamConsumer
from polestar.bus.jetstream._deadletters import DeadLetterStore
from polestar.bus.jetstream._errors import translated
from polestar.bus.jetstream._history import AttemptHistory
from polestar.bus.jetstream._names import HEADER_MSG_ID, HEADER_REPLAY_GROUP, Names
from polestar.bus.jetstream._publish import prepare
from polestar.bus.jetstream._puller import PullInbox
from polestar.errors import BusClosed, BusError, BusUnavailable, PublishRefused
from polestar.model.envelope import Envelope

logger = logging.getLogger(__name__)

API_TIMEOUT = 5.0
"""Seconds to wait for a JetStream API reply or a publish acknowledgement."""
PIPELINE_TIMEOUT = 30.0
"""Seconds ``publish_many`` waits for all its acknowledgements before calling the bus unavailable."""


class JetStreamEngine:
    """The bus contract on NATS JetStream: replicated streams and durable pull consumers.

    Construct with a ``JetStreamBusConfig`` (no I/O), then ``start()``.
    """

    name = "jetstream"

    def __init__(self, config: JetStreamBusConfig) -> None:
        self.config = config
        self.names = Names.from_config(config)
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None
        self._services: GroupServices | None = None
        self._closed = False
        self._consumers: set[JetStreamConsumer] = set()
        self._responders: set[_rpc.NatsResponder] = set()

    # --- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and create (or update) the streams and the history bucket."""
        self._check_open()
        if self._nc is not None:
            return
        options: dict[str, object] = {
            "servers": list(self.config.servers),
            "connect_timeout": self.config.connect_timeout,
            "name": f"polestar-{self.config.stream_prefix.lower()}",
            "allow_reconnect": True,
            "max_reconnect_attempts": -1,
            "error_cb": self._on_error,
            "disconnected_cb": self._on_disconnected,
            "reconnected_cb": self._on_reconnected,
        }
        if self.config.credentials_file is not None:
            options["user_credentials"] = str(self.config.credentials_file)
        nc = NatsClient()
        try:
            # nats-py retries forever with max_reconnect_attempts=-1, which is what a running
            # hub wants after a disconnection; the first connection is bounded here instead.
            await asyncio.wait_for(nc.connect(**options), self.config.connect_timeout)  # type: ignore[arg-type]
        except (OSError, TimeoutError, nats.errors.Error) as exc:
            await nc.close()
            raise BusUnavailable(
                f"cannot connect to NATS at {', '.join(self.config.servers)}: {exc!r}"
            ) from exc
        try:
            js = nc.jetstream(timeout=API_TIMEOUT)
            with translated("create streams"):
                await _streams.ensure_all(js, self.config, self.names)
                history = AttemptHistory(js, self.names)
                await history.open(self.config)
        except BaseException:
            await nc.close()
            raise
        self._nc, self._js = nc, js
        self._services = GroupServices(history, DeadLetterStore(js, self.names))

    async def close(self) -> None:
        """Give back buffered deliveries, stop responders, flush acknowledgements and disconnect."""
        if self._closed:
            return
        self._closed = True
        for consumer in list(self._consumers):
            with contextlib.suppress(BusError):
                await consumer.close()
        for responder in list(self._responders):
            with contextlib.suppress(BusError):
                await responder.close()
        nc, self._nc = self._nc, None
        if nc is not None and not nc.is_closed:
            with contextlib.suppress(nats.errors.Error, TimeoutError):
                await nc.flush(timeout=2)
            await nc.close()

    async def destroy(self) -> None:
        """Delete this installation's streams, consumers and bucket: tests and decommissioning only."""
        js = self._jetstream()
        with translated("delete streams"):
            await _streams.delete_all(js, self.names)

    # --- publishing -----------------------------------------------------------------------------

    async def publish(
        self,
        envelope: Envelope,
        *,
        subject: str | None = None,
        idempotency_key: str | None = None,
    ) -> PublishAck:
        """Store ``envelope`` durably on ``subject`` (default: its type); returns after the PubAck."""
        js = self._jetstream()
        out = prepare(self.config, self.names, envelope, subject, idempotency_key)
        with translated("publish"):
            ack = await js.publish(out.nats_subject, out.data, headers=out.headers)
        return PublishAck(sequence=ack.seq, duplicate=bool(ack.duplicate))

    async def publish_many(self, items: Sequence[tuple[Envelope, str | None]]) -> list[PublishAck]:
        """Publish ``(envelope, subject)`` pairs pipelined: all sent, then all acknowledgements awaited."""
        js = self._jetstream()
        # Check everything first, so a refused item means nothing at all was sent.
        prepared = [prepare(self.config, self.names, env, subject, None) for env, subject in items]
        futures: list[asyncio.Future[nats.js.api.PubAck]] = []
        with translated("publish"):
            try:
                for out in prepared:
                    # Sent one after another, acknowledged all together below.
                    future = await js.publish_async(out.nats_subject, out.data, headers=out.headers)
                    futures.append(future)
                acks = await asyncio.wait_for(asyncio.gather(*futures), PIPELINE_TIMEOUT)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        return [PublishAck(sequence=a.seq, duplicate=bool(a.duplicate)) for a in acks]

    async def forward(
        self, items: Sequence[tuple[Envelope, str | None]], deliveries: Sequence[Delivery]
    ) -> list[PublishAck]:
        """Publish ``items``, then ``ack`` ``deliveries``: a crash between redelivers the inputs."""
        acks = await self.publish_many(items)
        await self.ack_many(deliveries)
        return acks

    async def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """``ack`` each delivery; JetStream acknowledges messages one by one, without waiting."""
        self._check_open()
        for delivery in deliveries:
            await delivery.ack()

    # --- consuming ------------------------------------------------------------------------------

    async def subscribe(self, spec: ConsumerSpec) -> Consumer:
        """Join (creating if needed) the durable group described by ``spec``."""
        js = self._jetstream()
        assert self._nc is not None
        assert self._services is not None
        with translated("subscribe"):
            names = await _groups.ensure(js, spec, self.names)
            inbox = PullInbox(self._nc, self.names.events_stream, names, ack_wait=spec.ack_wait)
            await inbox.open()
        consumer = JetStreamConsumer(spec, self._services, inbox, _groups.filters_exact(spec))
        self._consumers.add(consumer)
        consumer.on_close(self._consumers.discard)
        return consumer

    async def replay(
        self, group: str, *, from_sequence: int | None = None, from_time: datetime | None = None
    ) -> None:
        """Move ``group`` back: its durables are recreated to start at a sequence or a time."""
        if (from_sequence is None) == (from_time is None):
            raise ValueError("replay needs exactly one of from_sequence or from_time")
        js = self._jetstream()
        assert self._services is not None
        with translated("replay"):
            moved = await _groups.move_back(
                js, self.names, group, from_sequence=from_sequence, from_time=from_time
            )
            if not moved:
                raise BusError(f"no consumer group {group!r} to replay")
            await self._services.history.forget_group(group)
        for consumer in self._consumers:
            if consumer.spec.group == group:
                consumer.discard_buffered()

    def read(
        self,
        *,
        from_sequence: int | None = None,
        from_time: datetime | None = None,
        subjects: Sequence[str] = (">",),
        limit: int | None = None,
    ) -> AsyncIterator[BusMessage]:
        """Iterate stored messages without consuming them."""
        js = self._jetstream()
        return _reader.read(
            js, self.names, from_sequence=from_sequence, from_time=from_time, subjects=subjects, limit=limit
        )

    # --- request/reply --------------------------------------------------------------------------

    async def request(
        self, envelope: Envelope, *, subject: str | None = None, timeout: float = 5.0
    ) -> Envelope:
        """Send a request and wait for its reply; ``RequestTimeout`` / ``NoResponders``."""
        self._jetstream()
        assert self._nc is not None
        if not isinstance(envelope, Envelope):
            raise PublishRefused(f"only an Envelope can be sent, not {type(envelope).__name__}")
        subject = envelope.type if subject is None else subject
        try:
            check_subject(subject)
        except ValueError as exc:
            raise PublishRefused(str(exc)) from None
        return await _rpc.request(self._nc, self.names.rpc_subject(subject), envelope, timeout)

    async def serve(self, subject: str, handler: RequestHandler) -> Responder:
        """Answer requests on ``subject``, competing with other responders in one queue group."""
        self._jetstream()
        assert self._nc is not None
        check_subject(subject)
        responder = _rpc.NatsResponder(
            self._nc, self.names.rpc_subject(subject), self.names.responder_queue, handler
        )
        await responder.start()
        self._responders.add(responder)
        return responder

    # --- dead letters ---------------------------------------------------------------------------

    async def dead_letters(self, group: str | None = None, limit: int = 100) -> list[DeadLetter]:
        """Dead letters, oldest first, optionally for one group."""
        store = self._dead_letters()
        with translated("list dead letters"):
            return await store.list(group, limit)

    async def dead_letter(self, dead_letter_id: str) -> DeadLetter:
        """One dead letter, or ``DeadLetterNotFound``."""
        store = self._dead_letters()
        with translated("read dead letter"):
            found, _ = await store.get(dead_letter_id)
        return found

    async def replay_dead_letter(self, dead_letter_id: str) -> PublishAck:
        """Send a dead letter back to its group only, as a fresh delivery, and remove it."""
        js = self._jetstream()
        store = self._dead_letters()
        with translated("replay dead letter"):
            found, raw = await store.get(dead_letter_id)
            message = found.message
            partition = self.names.partition_of(message.key or message.envelope.id)
            headers = {
                # Unique per dead letter, so a retried replay is not stored twice.
                HEADER_MSG_ID: f"dlq-replay:{dead_letter_id}",
                HEADER_REPLAY_GROUP: found.group,
            }
            ack = await js.publish(self.names.event_subject(message.subject, partition), raw, headers=headers)
            await store.delete(dead_letter_id)
        return PublishAck(sequence=ack.seq, duplicate=bool(ack.duplicate))

    async def discard_dead_letter(self, dead_letter_id: str) -> None:
        """Delete a dead letter an operator has decided not to replay."""
        store = self._dead_letters()
        with translated("discard dead letter"):
            await store.delete(dead_letter_id)

    # --- stats ----------------------------------------------------------------------------------

    async def stats(self) -> BusStats:
        """Counts for ``polestar bus stats``."""
        js = self._jetstream()
        store = self._dead_letters()
        with translated("stats"):
            info = await js.stream_info(self.names.events_stream)
            dead = await store.counts()
            consumers = await _groups.group_consumers(js, self.names)
        state = info.state
        return BusStats(
            engine=self.name,
            messages=state.messages,
            first_sequence=state.first_seq,
            last_sequence=state.last_seq,
            bytes=state.bytes,
            dead_letters=sum(dead.values()),
            groups=_groups.group_stats(consumers, dead),
        )

    def tail(self, subjects: Sequence[str], *, check_every: float = _tail.CHECK_EVERY) -> _tail.JetStreamTail:
        """Follow ``subjects`` through one held ordered consumer; see ``polestar.bus.tailing``.

        ``check_every``: seconds of quiet between checks that the server still has it.
        """
        self._check_open()
        return _tail.JetStreamTail(self._jetstream, self.names, subjects, check_every=check_every)

    # --- internals ------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise BusClosed("the JetStream engine was closed")

    def _jetstream(self) -> JetStreamContext:
        self._check_open()
        if self._js is None:
            raise BusError("the JetStream engine is not started: call start() first")
        return self._js

    def _dead_letters(self) -> DeadLetterStore:
        self._jetstream()
        assert self._services is not None
        return self._services.dead_letters

    async def _on_error(self, exc: Exception) -> None:
        logger.warning("NATS error: %s", exc)

    async def _on_disconnected(self) -> None:
        if not self._closed:
            logger.warning("disconnected from NATS; reconnecting")

    async def _on_reconnected(self) -> None:
        logger.info("reconnected to NATS")
