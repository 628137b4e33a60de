"""Request/reply inside one process, for the embedded profile.

The embedded hub is one process, so a request goes straight to a responder
registered on the same engine: nothing is written to the bus file and a second
process sharing the file cannot answer. Responders on one subject compete
(round robin), as members of a NATS queue group do.
"""

from __future__ import annotations

import asyncio
import itertools

from polestar.bus.contract import RequestHandler, check_filter, subject_matches
from polestar.errors import BusError, NoResponders, RequestTimeout
from polestar.model.envelope import Envelope


class LocalResponder:
    """A handler answering one subject filter until closed."""

    def __init__(self, registry: LocalRequests, subject: str, handler: RequestHandler) -> None:
        self.subject = subject
        self.handler = handler
        self._registry = registry

    async def close(self) -> None:
        """Stop answering requests."""
        self._registry.remove(self)


class LocalRequests:
    """The responders registered on one engine."""

    def __init__(self) -> None:
        self._responders: list[LocalResponder] = []
        self._turn = itertools.count()

    def add(self, subject: str, handler: RequestHandler) -> LocalResponder:
        """Register ``handler`` for the subject filter ``subject`` (wildcards allowed)."""
        try:
            check_filter(subject)
        except ValueError as exc:
            raise BusError(str(exc)) from exc
        responder = LocalResponder(self, subject, handler)
        self._responders.append(responder)
        return responder

    def remove(self, responder: LocalResponder) -> None:
        """Unregister ``responder`` (no error if it already was)."""
        if responder in self._responders:
            self._responders.remove(responder)

    def clear(self) -> None:
        """Unregister everyone (the engine is closing)."""
        self._responders.clear()

    async def request(self, envelope: Envelope, subject: str, timeout: float) -> Envelope:
        """Ask one responder of ``subject``; the reply is tied to the request by ``causationid``."""
        candidates = [r for r in self._responders if subject_matches(r.subject, subject)]
        if not candidates:
            raise NoResponders(f"nobody answers requests on {subject!r} in this process")
        responder = candidates[next(self._turn) % len(candidates)]
        try:
            async with asyncio.timeout(timeout):
                reply = await responder.handler(envelope)
        except TimeoutError as exc:
            raise RequestTimeout(f"no reply on {subject!r} within {timeout:g}s") from exc
        except Exception as exc:
            raise BusError(f"the responder on {subject!r} failed: {type(exc).__name__}: {exc}") from exc
        if not isinstance(reply, Envelope):
            raise BusError(
                f"the responder on {subject!r} answered with {type(reply).__name__}, not an Envelope"
            )
        updates = {}
        if reply.causationid is None:
            updates["causationid"] = envelope.id
        if reply.correlationid is None:
            updates["correlationid"] = envelope.correlationid or envelope.id
        return reply.model_copy(update=updates) if updates else reply
