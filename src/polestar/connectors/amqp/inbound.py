"""Consuming a system's RabbitMQ queue: manual ack after the hub took each message.

Acknowledgement is at-least-once:

* a message is acked only after ``Ingest`` returned (its events are durable
  on the bus) or after it was quarantined (refused, or records rejected);
* if the hub cannot take it now (its bus is down) the message is nacked with
  requeue after ``retry_delay`` seconds, and comes back;
* if the hub dies, or ``stop()`` is called, with a message unacked, the
  broker requeues it when the channel closes and delivers it again, flagged
  ``redelivered`` (the ``amqp-redelivered`` header on the ``RawMessage``).

The connection is robust: aio-pika reconnects and restores the consumer.
The reference handed to the hub is the message's ``message_id``, or a digest
of its body when the sender set none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from polestar.background import stop_task
from polestar.connectors.amqp._client import aio_pika
from polestar.connectors.amqp._connection import AmqpUnreachableError, open_connection
from polestar.connectors.amqp.config import AmqpInboundConfig
from polestar.connectors.contract import Ingest, RawMessage
from polestar.connectors.settle import Settlement, await_first_connection, content_reference, hand_over

logger = logging.getLogger(__name__)

RECONNECT_DELAY = 2.0


class AmqpInbound:
    """Consumes ``config.queue`` and hands each message to the hub."""

    def __init__(self, name: str, config: AmqpInboundConfig) -> None:
        self.name = name
        self.config = config
        self._ingest: Ingest | None = None
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[object]] = set()

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._connection is not None and not self._connection.is_closed

    async def start(self, ingest: Ingest) -> None:
        """Connect and consume; if the broker is unreachable, keep trying in the background.

        A queue or exchange that cannot be declared (or, with ``declare: false``,
        does not exist) is raised here.
        """
        if self._task is not None:
            return
        self._ingest = ingest
        first: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first), name=f"amqp-inbound-{self.name}")
        await await_first_connection(self.name, "amqp", first, self.stop)

    async def stop(self) -> None:
        """Stop consuming and close; unacked messages go back to the queue. Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            # Cancelled until it ends: the client library can swallow one (see polestar.background).
            error = await stop_task(task)
            if error is not None:
                raise error
        for handler in list(self._in_flight):
            handler.cancel()
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection has nothing to report
                await connection.close()

    async def _run(self, first: asyncio.Future[str | None]) -> None:
        while self._connection is None:
            try:
                self._connection = await open_connection(self.name, self.config)
            except AmqpUnreachableError as exc:
                if not first.done():
                    first.set_result(str(exc))
                await asyncio.sleep(RECONNECT_DELAY)
            except Exception as exc:
                if not first.done():
                    first.set_exception(exc)
                    return
                raise
        try:
            await self._consume(self._connection)
        except Exception as exc:
            if not first.done():
                first.set_exception(exc)
                return
            raise
        if not first.done():
            first.set_result(None)
        await asyncio.Event().wait()  # the robust connection delivers to the callback until stop()

    async def _consume(self, connection: aio_pika.abc.AbstractRobustConnection) -> None:
        config = self.config
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=config.prefetch)
        queue: aio_pika.abc.AbstractQueue
        exchange: aio_pika.abc.AbstractExchange
        if config.declare:
            queue = await channel.declare_queue(config.queue, durable=True, arguments=config.queue_arguments)
        else:
            queue = await channel.get_queue(config.queue, ensure=True)
        if config.exchange is not None:
            if config.declare:
                exchange = await channel.declare_exchange(config.exchange, config.exchange_type, durable=True)
            else:
                exchange = await channel.get_exchange(config.exchange, ensure=True)
            for key in config.routing_keys:
                await queue.bind(exchange, routing_key=key)
        await queue.consume(self._on_message, no_ack=False)

    async def _on_message(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await self._settle(message)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _settle(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        assert self._ingest is not None
        settlement = await hand_over(self._ingest, self._raw(message))
        try:
            if settlement is Settlement.ACK:
                await message.ack()
            else:
                await asyncio.sleep(self.config.retry_delay)
                await message.nack(requeue=True)
        except Exception as exc:  # noqa: BLE001 - the channel is gone: the broker requeues it anyway
            logger.warning("amqp connector %s: could not settle a message: %r", self.name, exc)

    def _raw(self, message: aio_pika.abc.AbstractIncomingMessage) -> RawMessage:
        headers = {str(k): str(v) for k, v in (message.headers or {}).items()}
        headers["amqp-exchange"] = message.exchange or ""
        headers["amqp-routing-key"] = message.routing_key or ""
        headers["amqp-redelivered"] = "true" if message.redelivered else "false"
        if message.correlation_id:
            headers["amqp-correlation-id"] = message.correlation_id
        return RawMessage(
            connector=self.name,
            body=message.body,
            content_type=message.content_type or self.config.content_type,
            reference=message.message_id or content_reference(f"amqp:{self.config.queue}", message.body),
            headers=headers,
        )
