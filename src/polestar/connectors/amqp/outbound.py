"""Publishing to a system's RabbitMQ exchange: persistent, confirmed, unroutable refused.

Each message is published with delivery mode *persistent*, ``message_id`` =
the event id, and (by default) the *mandatory* flag, on a channel with
publisher confirms. ``deliver`` returns when the broker confirmed it:

===========================================  =================================
broker answer                                outcome
===========================================  =================================
ack                                          ``DeliveryReceipt``
returned: no queue is bound for the key      ``DeliveryRefused`` (dead-letter)
nack, no confirm within ``timeout``          ``DeliveryFailed`` (retry)
connection down                              ``DeliveryFailed`` (retry)
===========================================  =================================

The connection is robust (aio-pika reconnects it); while it is down each
delivery fails fast with ``DeliveryFailed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from polestar.connectors.amqp._client import aio_pika, aiormq
from polestar.connectors.amqp._connection import AmqpUnreachableError, open_connection
from polestar.connectors.amqp.config import AmqpOutboundConfig
from polestar.connectors.contract import DeliveryReceipt, OutboundMessage
from polestar.errors import DeliveryFailed, DeliveryRefused

logger = logging.getLogger(__name__)


class AmqpOutbound:
    """Publishes each message to ``config.exchange`` with the target or configured routing key."""

    def __init__(self, name: str, config: AmqpOutboundConfig) -> None:
        self.name = name
        self.config = config
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self._exchange: aio_pika.abc.AbstractExchange | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Try to connect now; if that fails, say why in the log and try again on the first delivery."""
        try:
            await self._ready()
        except (DeliveryFailed, DeliveryRefused) as exc:
            logger.warning("amqp connector %s: not ready at start: %s", self.name, exc)

    async def stop(self) -> None:
        """Close the channel and connection; idempotent."""
        connection, self._connection = self._connection, None
        self._channel = self._exchange = None
        if connection is not None:
            with contextlib.suppress(Exception):  # closing a broken connection has nothing to report
                await connection.close()

    async def _ready(self) -> aio_pika.abc.AbstractExchange:
        async with self._lock:
            if self._exchange is not None and self._channel is not None and not self._channel.is_closed:
                return self._exchange
            if self._connection is None:
                try:
                    self._connection = await open_connection(self.name, self.config)
                except AmqpUnreachableError as exc:
                    raise DeliveryFailed(f"amqp connector {self.name!r}: {exc}") from exc
            try:
                channel = await asyncio.wait_for(
                    self._connection.channel(publisher_confirms=True, on_return_raises=True),
                    self.config.timeout,
                )
                self._exchange = await self._declare(channel)
            except (aiormq.exceptions.ChannelNotFoundEntity, aiormq.exceptions.ChannelAccessRefused) as exc:
                raise DeliveryRefused(f"amqp connector {self.name!r}: {exc}") from exc
            except (aiormq.exceptions.AMQPError, OSError, TimeoutError, RuntimeError) as exc:
                raise DeliveryFailed(f"amqp connector {self.name!r}: cannot open a channel: {exc!r}") from exc
            self._channel = channel
            return self._exchange

    async def _declare(self, channel: aio_pika.abc.AbstractChannel) -> aio_pika.abc.AbstractExchange:
        name = self.config.exchange
        if not name:
            return channel.default_exchange
        if self.config.declare_exchange:
            return await channel.declare_exchange(name, self.config.exchange_type, durable=True)
        return await channel.get_exchange(name, ensure=True)

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Publish and wait for the broker's confirm; see the module docstring for the outcomes."""
        routing_key = message.target or self.config.routing_key
        if routing_key is None:
            raise DeliveryRefused(
                f"amqp connector {self.name!r}: no routing key configured and no target given"
            )
        exchange = await self._ready()
        amqp_message = aio_pika.Message(
            body=message.body,
            content_type=message.content_type,
            message_id=message.idempotency_key,
            correlation_id=message.envelope.correlationid,
            type=message.envelope.type,
            timestamp=message.envelope.time,
            headers={**message.headers},
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        where = (
            f"amqp connector {self.name!r} publishing to {self.config.exchange or '(default)'}/{routing_key}"
        )
        try:
            await exchange.publish(
                amqp_message,
                routing_key=routing_key,
                mandatory=self.config.mandatory,
                timeout=self.config.timeout,
            )
        except aiormq.exceptions.PublishError as exc:
            raise DeliveryRefused(f"{where}: unroutable, the broker returned it (no queue bound)") from exc
        except aiormq.exceptions.DeliveryError as exc:
            raise DeliveryFailed(f"{where}: the broker nacked it") from exc
        except (aiormq.exceptions.AMQPError, OSError, TimeoutError, RuntimeError) as exc:
            self._exchange = None  # re-open the channel on the next delivery
            raise DeliveryFailed(f"{where}: {type(exc).__name__}: {exc}") from exc
        return DeliveryReceipt(reference=message.idempotency_key)
