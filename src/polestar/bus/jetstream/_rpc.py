"""Request/reply over core NATS: nothing is stored, responders share a queue group."""

from __future__ import annotations

import logging

import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from polestar.bus.contract import RequestHandler
from polestar.bus.jetstream._errors import translated
from polestar.errors import NoResponders, RequestTimeout
from polestar.model.envelope import Envelope

logger = logging.getLogger(__name__)


async def request(nc: NatsClient, nats_subject: str, envelope: Envelope, timeout: float) -> Envelope:
    """Send ``envelope`` and wait for one reply."""
    with translated("request"):
        try:
            reply = await nc.request(nats_subject, envelope.to_json(), timeout=timeout)
        except nats.errors.NoRespondersError:
            raise NoResponders(f"nobody is answering requests on {nats_subject}") from None
        except nats.errors.TimeoutError:
            raise RequestTimeout(f"no reply on {nats_subject} within {timeout}s") from None
    return Envelope.from_json(reply.data)


class NatsResponder:
    """Answers requests on one subject until closed."""

    def __init__(self, nc: NatsClient, nats_subject: str, queue: str, handler: RequestHandler) -> None:
        self._nc = nc
        self._subject = nats_subject
        self._queue = queue
        self._handler = handler
        self._sub: Subscription | None = None

    async def start(self) -> None:
        """Join the responders' queue group."""
        with translated("serve"):
            self._sub = await self._nc.subscribe(self._subject, queue=self._queue, cb=self._answer)

    async def _answer(self, msg: Msg) -> None:
        try:
            reply = await self._handler(Envelope.from_json(msg.data))
            await msg.respond(reply.to_json())
        except Exception:
            # A failing handler must not stop the responder; the requester sees a timeout.
            logger.exception("request handler on %s failed", self._subject)

    async def close(self) -> None:
        """Stop answering requests."""
        if self._sub is None:
            return
        sub, self._sub = self._sub, None
        with translated("close responder"):
            await sub.unsubscribe()
