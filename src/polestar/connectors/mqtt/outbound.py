"""Publishing to a system's MQTT topic with QoS 1: ``deliver`` returns on the broker's PUBACK.

While the broker is unreachable ``deliver`` raises ``DeliveryFailed`` at once
(or after ``timeout`` when the broker stops answering); the next delivery
reconnects. MQTT 3.1.1 has no message headers, so only the body is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from polestar.connectors.contract import DeliveryReceipt, OutboundMessage
from polestar.connectors.mqtt._client import aiomqtt
from polestar.connectors.mqtt._connection import make_client
from polestar.connectors.mqtt.config import MqttOutboundConfig
from polestar.errors import DeliveryFailed, DeliveryRefused

logger = logging.getLogger(__name__)


class MqttOutbound:
    """Publishes each message on ``target`` or ``config.topic``."""

    def __init__(self, name: str, config: MqttOutboundConfig) -> None:
        self.name = name
        # Each hub process publishes under an id of its own, or two would keep disconnecting each other.
        self.client_id = config.client_id or f"polestar-{name}-{uuid.uuid4().hex[:8]}"
        self.config = config.model_copy(update={"client_id": self.client_id})
        self._client: aiomqtt.Client | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Try to connect now; if that fails, say why in the log and try again on the first delivery."""
        try:
            await self._connected()
        except (DeliveryFailed, DeliveryRefused) as exc:
            logger.warning("mqtt connector %s: not ready at start: %s", self.name, exc)

    async def stop(self) -> None:
        """Disconnect; idempotent."""
        async with self._lock:
            await self._drop()

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):  # a broken connection has nothing left to say
                await asyncio.wait_for(client.__aexit__(None, None, None), self.config.timeout)

    async def _connected(self) -> aiomqtt.Client:
        async with self._lock:
            if self._client is not None:
                return self._client
            client = make_client(self.name, self.config, clean_session=True)
            try:
                await asyncio.wait_for(client.__aenter__(), self.config.timeout)
            except (aiomqtt.MqttError, TimeoutError) as exc:
                raise DeliveryFailed(
                    f"mqtt connector {self.name!r}: cannot connect to {self.config.url}: {exc!r}"
                ) from exc
            self._client = client
            return client

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Publish ``message`` and wait for the broker's acknowledgement."""
        topic = message.target or self.config.topic
        if not topic:
            raise DeliveryRefused(f"mqtt connector {self.name!r}: no topic configured and no target given")
        if any(c in topic for c in "+#"):
            raise DeliveryRefused(f"mqtt connector {self.name!r}: cannot publish to wildcard topic {topic!r}")
        client = await self._connected()
        try:
            await client.publish(
                topic,
                message.body,
                qos=self.config.qos,
                retain=self.config.retain,
                timeout=self.config.timeout,
            )
        except (aiomqtt.MqttError, TimeoutError) as exc:
            async with self._lock:
                if self._client is client:
                    await self._drop()
            raise DeliveryFailed(f"mqtt connector {self.name!r} publishing on {topic}: {exc!r}") from exc
        return DeliveryReceipt(reference=message.idempotency_key)
