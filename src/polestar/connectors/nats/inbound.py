"""Receiving from a system's NATS subject: a core queue subscription or a JetStream pull consumer.

Acknowledgement:

* **JetStream** (``jetstream:`` set): at-least-once. A message is acked only
  after ``Ingest`` returned (or it was quarantined); if the hub cannot take it
  the message is nak'ed with ``retry_delay``, and if the hub dies it is
  redelivered after ``ack_wait``. The consumer is created with unlimited
  deliveries, so nothing is discarded by the server.
* **Core NATS**: at-most-once by nature — the server does not keep messages.
  The connector retries ingest in process every ``retry_delay`` seconds until
  it succeeds, so a hub whose bus is briefly down loses nothing, but a message
  in flight when the hub process dies is lost. Use JetStream where that matters.

The reference handed to the hub is the ``Nats-Msg-Id`` header when the
sender set one, else ``STREAM:SEQUENCE`` (JetStream) or a digest of the body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from polestar.background import stop_task
from polestar.connectors.contract import Ingest, RawMessage
from polestar.connectors.nats._client import Msg, NatsClient, nats
from polestar.connectors.nats._connection import NatsUnreachableError, open_connection
from polestar.connectors.nats.config import JetStreamPull, NatsInboundConfig
from polestar.connectors.settle import Settlement, await_first_connection, content_reference, hand_over
from polestar.errors import ConfigError

logger = logging.getLogger(__name__)

RECONNECT_DELAY = 2.0


class NatsInbound:
    """Subscribes to ``config.subject`` and hands each message to the hub."""

    def __init__(self, name: str, config: NatsInboundConfig) -> None:
        self.name = name
        self.config = config
        self._ingest: Ingest | None = None
        self._task: asyncio.Task[None] | None = None
        self._client: NatsClient | None = None

    @property
    def connected(self) -> bool:
        """True while connected to a server."""
        return self._client is not None and self._client.is_connected

    async def start(self, ingest: Ingest) -> None:
        """Connect and subscribe; if NATS is unreachable, keep trying in the background.

        A subscription that cannot be made (no such stream) is raised here.
        """
        if self._task is not None:
            return
        self._ingest = ingest
        first: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first), name=f"nats-inbound-{self.name}")
        await await_first_connection(self.name, "nats", first, self.stop)

    async def stop(self) -> None:
        """Unsubscribe and close; unacked JetStream messages are redelivered later. Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            # Cancelled until it ends: the client library can swallow one (see polestar.background).
            error = await stop_task(task)
            if error is not None:
                raise error
        await self._close_client()

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(Exception):  # closing a broken connection has nothing to report
                await client.close()

    async def _run(self, first: asyncio.Future[str | None]) -> None:
        while True:
            try:
                client = await open_connection(self.name, self.config)
            except NatsUnreachableError as exc:
                if not first.done():
                    first.set_result(str(exc))
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            except Exception as exc:
                if not first.done():
                    first.set_exception(exc)
                    return
                raise
            self._client = client
            try:
                await self._consume(client, first)
            except Exception as exc:  # noqa: BLE001 - any failure of a live connection: log, reconnect
                await self._close_client()
                if not first.done():
                    first.set_exception(exc)
                    return
                logger.warning("nats connector %s: %r; reconnecting", self.name, exc)
                await asyncio.sleep(RECONNECT_DELAY)

    async def _consume(self, client: NatsClient, first: asyncio.Future[str | None]) -> None:
        pull = self.config.jetstream
        if pull is None:
            await client.subscribe(self.config.subject, queue=self.config.queue_group or "", cb=self._on_core)
            await client.flush()
            if not first.done():
                first.set_result(None)
            await asyncio.Event().wait()  # messages arrive in the callback until stop() cancels
            return
        js = client.jetstream()
        consumer = nats.js.api.ConsumerConfig(
            durable_name=pull.durable,
            ack_policy=nats.js.api.AckPolicy.EXPLICIT,
            ack_wait=pull.ack_wait,
            max_deliver=-1,
            filter_subject=self.config.subject,
        )
        try:
            subscription = await js.pull_subscribe(
                self.config.subject, durable=pull.durable, stream=pull.stream, config=consumer
            )
        except nats.js.errors.NotFoundError as exc:
            problem = f"stream {pull.stream!r} not found on {', '.join(self.config.servers)}"
            raise ConfigError(self.name, [("jetstream.stream", problem)]) from exc
        if not first.done():
            first.set_result(None)
        while True:
            try:
                messages = await subscription.fetch(pull.batch, timeout=pull.fetch_timeout)
            except nats.errors.TimeoutError:
                continue
            except (nats.errors.ConnectionReconnectingError, nats.errors.ConnectionClosedError):
                await asyncio.sleep(RECONNECT_DELAY)
                continue
            for message in messages:
                await self._settle_jetstream(message, pull)

    async def _settle_jetstream(self, message: Msg, pull: JetStreamPull) -> None:
        assert self._ingest is not None
        settlement = await hand_over(self._ingest, self._raw(message, pull))
        try:
            if settlement is Settlement.ACK:
                await message.ack()
            else:
                await message.nak(delay=pull.retry_delay)
        except nats.errors.Error as exc:
            # The ack did not reach the server: the message comes back after ack_wait.
            logger.warning("nats connector %s: could not settle a message: %r", self.name, exc)

    async def _on_core(self, message: Msg) -> None:
        assert self._ingest is not None
        raw = self._raw(message, None)
        while True:
            if await hand_over(self._ingest, raw) is Settlement.ACK:
                return
            await asyncio.sleep(self.config.retry_delay)

    def _raw(self, message: Msg, pull: JetStreamPull | None) -> RawMessage:
        headers = dict(message.headers or {})
        reference = headers.get("Nats-Msg-Id")
        if reference is None and pull is not None:
            reference = f"{pull.stream}:{message.metadata.sequence.stream}"
        headers["nats-subject"] = message.subject
        return RawMessage(
            connector=self.name,
            body=message.data,
            content_type=headers.get("Content-Type", self.config.content_type),
            reference=reference or content_reference(f"nats:{message.subject}", message.data),
            headers=headers,
        )
