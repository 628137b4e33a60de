"""Settling a broker message: ingest it, quarantine what the hub refuses, then ack or leave it.

Shared by every broker inbound (nats, amqp, mqtt): each asks ``hand_over`` what
to tell its broker, so the rule "acked only once durable" is written once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from enum import StrEnum

from polestar.connectors.contract import Ingest, RawMessage
from polestar.errors import ConfigError, InboundRefused, MappingFailed, PolestarError, PublishRefused

logger = logging.getLogger(__name__)


class Settlement(StrEnum):
    """What to tell the broker about one message once the hub has dealt with it."""

    ACK = "ack"
    """Taken: ingested, or quarantined with a reason."""
    RETRY = "retry"
    """Not taken (the hub or its bus is down): leave it with the broker to be delivered again."""


_PERMANENT = (InboundRefused, MappingFailed, PublishRefused)


async def hand_over(ingest: Ingest, raw: RawMessage) -> Settlement:
    """Ingest ``raw``; quarantine it if refused or partly rejected; say whether to ack or retry.

    A message is acked only once it is durable on the bus, either as events
    or in quarantine; anything else leaves it with the broker.
    """
    try:
        result = await ingest(raw)
    except _PERMANENT as exc:
        reason = str(exc)
    except Exception:  # whatever failed inside the hub, the broker keeps the message
        logger.warning(
            "%s: ingest of %s failed; it will be redelivered", raw.connector, raw.reference, exc_info=True
        )
        return Settlement.RETRY
    else:
        if not result.rejected:
            return Settlement.ACK
        reason = "; ".join(": ".join(p for p in (r.where, r.field, r.reason) if p) for r in result.rejected)
    try:
        await ingest.quarantine(raw, reason)
    except Exception:  # the quarantine is not durable: keep the message with the broker
        logger.warning(
            "%s: cannot quarantine %s; it will be redelivered", raw.connector, raw.reference, exc_info=True
        )
        return Settlement.RETRY
    logger.info("%s: quarantined %s: %s", raw.connector, raw.reference, reason)
    return Settlement.ACK


def content_reference(prefix: str, body: bytes) -> str:
    """A reference for a message its transport gave no id: stable across redeliveries."""
    return f"{prefix}:sha256:{hashlib.sha256(body).hexdigest()[:32]}"


async def await_first_connection(
    connector: str, kind: str, first: asyncio.Future[str | None], stop: Callable[[], Awaitable[None]]
) -> None:
    """Wait for a broker inbound's first attempt to subscribe, as every broker kind's ``start()`` does.

    ``first`` resolves to ``None`` (subscribed) or to why the broker is unreachable
    (logged; the connector keeps trying in the background). A subscription that can
    never work (no such queue or stream) raises, after ``stop()``, as ``ConfigError``.
    """
    try:
        problem = await first
    except PolestarError:
        await stop()
        raise
    except Exception as exc:
        await stop()
        raise ConfigError(connector, [("inbound", f"cannot subscribe: {exc!r}")]) from exc
    except BaseException:
        await stop()
        raise
    if problem is not None:
        logger.warning("%s connector %s: %s; retrying in the background", kind, connector, problem)
