"""``wiretap``: publish a copy to a bus subject and carry on with the original."""

from __future__ import annotations

from collections.abc import Sequence

from polestar.bus.contract import BusEngine
from polestar.model.envelope import Envelope
from polestar.routes.config import WiretapStep


class WireTap:
    """Publishes the envelope unchanged on ``config.subject``; a redelivery is dropped by the bus."""

    def __init__(self, config: WiretapStep, *, route: str, bus: BusEngine) -> None:
        self.config = config
        self.route = route
        self.bus = bus

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """The envelope, after publishing its copy."""
        # The copy keeps its id, so it needs a key of its own: the original's key is taken.
        key = f"wiretap:{self.route}:{self.config.subject}:{envelope.id}"
        await self.bus.publish(envelope, subject=self.config.subject, idempotency_key=key)
        return [envelope]
