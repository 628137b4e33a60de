"""Publishing to a system's NATS subject: JetStream (acked, deduplicated by event id) or core.

With ``stream`` set, each message is published through JetStream with
``Nats-Msg-Id`` = the event id, so a delivery retried after a lost ack is
stored once, and ``deliver`` returns the stream sequence. Without it, a core
publish is followed by a flush: the server has the message, but keeps it only
if someone is subscribed. While NATS is unreachable ``deliver`` raises
``DeliveryFailed`` after at most ``timeout`` seconds; the connection is
re-opened on the next delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from polestar.connectors.contract import DeliveryReceipt, OutboundMessage
from polestar.connectors.nats._client import NatsClient, nats
from polestar.connectors.nats._connection import NatsUnreachableError, open_connection
from polestar.connectors.nats.config import NatsOutboundConfig
from polestar.errors import DeliveryFailed, DeliveryRefused

logger = logging.getLogger(__name__)


class NatsOutbound:
    """Publishes each message on ``target`` or ``config.subject``."""

    def __init__(self, name: str, config: NatsOutboundConfig) -> None:
        self.name = name
        self.config = config
        self._client: NatsClient | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Try to connect now; if that fails, say why in the log and try again on the first delivery."""
        try:
            await self._connected()
        except (DeliveryFailed, DeliveryRefused) as exc:
            logger.warning("nats connector %s: not ready at start: %s", self.name, exc)

    async def stop(self) -> None:
        """Flush and close; idempotent."""
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            with contextlib.suppress(Exception):  # a dead connection has nothing left to flush
                await asyncio.wait_for(client.drain(), self.config.timeout)
            with contextlib.suppress(Exception):
                await client.close()

    async def _connected(self) -> NatsClient:
        async with self._lock:
            if self._client is not None and not self._client.is_closed:
                return self._client
            try:
                self._client = await open_connection(self.name, self.config)
            except NatsUnreachableError as exc:
                raise DeliveryFailed(f"nats connector {self.name!r}: {exc}") from exc
            return self._client

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Publish ``message``; ``DeliveryFailed`` while NATS is down or slow to ack."""
        subject = message.target or self.config.subject
        if not subject:
            raise DeliveryRefused(f"nats connector {self.name!r}: no subject configured and no target given")
        client = await self._connected()
        headers = {
            **message.headers,
            "Content-Type": message.content_type,
            "Polestar-Event-Id": message.envelope.id,
        }
        where = f"nats connector {self.name!r} publishing on {subject}"
        try:
            if self.config.stream is None:
                await client.publish(subject, message.body, headers=headers)
                await client.flush(timeout=max(1, round(self.config.timeout)))
                return DeliveryReceipt(reference=message.idempotency_key)
            headers["Nats-Msg-Id"] = message.idempotency_key
            ack = await client.jetstream(timeout=self.config.timeout).publish(
                subject, message.body, stream=self.config.stream, headers=headers
            )
        except (nats.errors.MaxPayloadError, nats.errors.BadSubjectError) as exc:
            raise DeliveryRefused(f"{where}: {type(exc).__name__}: {exc}") from exc
        except nats.js.errors.BadRequestError as exc:
            raise DeliveryRefused(f"{where}: JetStream refused it: {exc}") from exc
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            raise DeliveryFailed(f"{where}: {type(exc).__name__}: {exc}") from exc
        return DeliveryReceipt(
            reference=f"{ack.stream}:{ack.seq}",
            response={"stream": ack.stream, "sequence": ack.seq, "duplicate": bool(ack.duplicate)},
        )
