"""Subscribing to a system's MQTT topics: QoS 1, persistent session, PUBACK after the hub took it.

Acknowledgement is at-least-once where the client allows it, and it does:
aiomqtt wraps paho-mqtt, whose manual-acknowledgement mode this connector
switches on (``manual_ack_set(True)`` on the wrapped client, as aiomqtt 2.x
exposes no option for it). Then:

* the PUBACK for a message is sent only after ``Ingest`` returned, or after
  the message was quarantined;
* if the hub cannot take a message now, the connector disconnects without
  acking and reconnects after ``retry_delay``: with a persistent session
  (``clean_session`` false) the broker resends every unacked QoS 1 message;
* if the hub dies, the broker keeps the session and the unacked and queued
  messages for the same ``client_id``, and resends them when it is back.

Should a future aiomqtt hide the paho client, the connector falls back to
paho's automatic acknowledgement and logs a warning: messages are then acked
on receipt, which loses the in-flight message if the hub dies (at-most-once
for that message; the persistent session still queues the rest).

MQTT 3.1.1 carries no message id of the sender's, so the reference handed to
the hub is ``mqtt:<topic>:sha256:<digest of the payload>``: the same on a
redelivery, and the same for two identical payloads on one topic.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from polestar.background import stop_task
from polestar.connectors.contract import Ingest, RawMessage
from polestar.connectors.mqtt._client import aiomqtt
from polestar.connectors.mqtt._connection import make_client
from polestar.connectors.mqtt.config import MqttInboundConfig
from polestar.connectors.settle import Settlement, await_first_connection, content_reference, hand_over

logger = logging.getLogger(__name__)


def _manual_ack(client: aiomqtt.Client) -> Any | None:
    """The wrapped paho client in manual-ack mode, or ``None`` if this aiomqtt hides it."""
    paho = getattr(client, "_client", None)
    if paho is None or not hasattr(paho, "manual_ack_set") or not hasattr(paho, "ack"):
        return None
    paho.manual_ack_set(on=True)
    return paho


def _payload(message: aiomqtt.Message) -> bytes:
    payload: object = message.payload
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()


class MqttInbound:
    """Subscribes to ``config.topics`` and hands each message to the hub."""

    def __init__(self, name: str, config: MqttInboundConfig) -> None:
        self.name = name
        self.config = config
        self._ingest: Ingest | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = False

    @property
    def connected(self) -> bool:
        """True while connected and subscribed."""
        return self._connected

    async def start(self, ingest: Ingest) -> None:
        """Connect and subscribe; if the broker is unreachable, keep trying in the background."""
        if self._task is not None:
            return
        self._ingest = ingest
        first: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first), name=f"mqtt-inbound-{self.name}")
        await await_first_connection(self.name, "mqtt", first, self.stop)

    async def stop(self) -> None:
        """Disconnect; unacked messages stay with the broker's session. Idempotent."""
        task, self._task = self._task, None
        if task is not None:
            # Cancelled until it ends: the client library can swallow one (see polestar.background).
            error = await stop_task(task)
            if error is not None:
                raise error
        self._connected = False

    async def _run(self, first: asyncio.Future[str | None]) -> None:
        while True:
            try:
                client = make_client(self.name, self.config, clean_session=not self.config.persistent_session)
            except Exception as exc:  # a configuration problem (no password): say so at start()
                if not first.done():
                    first.set_exception(exc)
                    return
                raise
            try:
                delay = await self._session(client, first)
            except aiomqtt.MqttError as exc:
                if not first.done():
                    first.set_result(f"cannot connect to MQTT at {self.config.url}: {exc}")
                else:
                    logger.warning("mqtt connector %s: %s; reconnecting", self.name, exc)
                delay = self.config.reconnect_delay
            finally:
                self._connected = False
            await asyncio.sleep(delay)

    async def _session(self, client: aiomqtt.Client, first: asyncio.Future[str | None]) -> float:
        """Consume until the hub cannot take a message (returns the delay before reconnecting)."""
        paho = _manual_ack(client)
        if paho is None:
            logger.warning(
                "mqtt connector %s: this aiomqtt hides manual acknowledgement; messages are acked on receipt",
                self.name,
            )
        async with client:
            filters: list[tuple[str, int]] = [(topic, self.config.qos) for topic in self.config.topics]
            await client.subscribe(filters)
            self._connected = True
            if not first.done():
                first.set_result(None)
            assert self._ingest is not None
            async for message in client.messages:
                if await hand_over(self._ingest, self._raw(message)) is Settlement.RETRY:
                    # Leave it unacked and reconnect: the broker resends it in the persistent session.
                    return self.config.retry_delay
                if paho is not None and message.qos > 0:
                    paho.ack(message.mid, message.qos)
        return self.config.reconnect_delay

    def _raw(self, message: aiomqtt.Message) -> RawMessage:
        body = _payload(message)
        topic = message.topic.value
        return RawMessage(
            connector=self.name,
            body=body,
            content_type=self.config.content_type,
            reference=content_reference(f"mqtt:{topic}", body),
            headers={
                "mqtt-topic": topic,
                "mqtt-qos": str(message.qos),
                "mqtt-retain": str(message.retain).lower(),
            },
        )
