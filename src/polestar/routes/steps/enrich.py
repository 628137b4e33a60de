"""``enrich``: ask another system over the bus and put its answer into ``data``.

The request is an event caused by the message (``Envelope.caused``), so the
answering side sees the correlation, the marking, the actor and the purpose:
what the audit of a consultation (a PNC check) needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from polestar.bus.contract import BusEngine
from polestar.errors import DeliveryFailed, NoResponders, RequestTimeout
from polestar.model.envelope import Envelope
from polestar.routes.config import EnrichStep, TimeoutPolicy
from polestar.routes.derive import derived_id, route_source
from polestar.routes.expressions import evaluate_for
from polestar.routes.steps.transform import put


class Enrich:
    """Sends a request on ``config.subject`` and stores the reply at ``data.<into>``."""

    def __init__(self, config: EnrichStep, *, route: str, bus: BusEngine, index: int) -> None:
        self.config = config
        self.route = route
        self.bus = bus
        self.label = f"enrich{index}"

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """Ask, and return the envelope with the answer in ``data``."""
        payload = evaluate_for("enrich request", self.config.request, envelope)
        request = envelope.caused(
            id=derived_id(self.route, self.label, envelope.id),
            source=route_source(self.route),
            type=self.config.type or envelope.type,
            subject=envelope.subject,
            data=payload if isinstance(payload, dict) else {"value": payload},
        )
        try:
            reply = await self.bus.request(request, subject=self.config.subject, timeout=self.config.timeout)
        except (RequestTimeout, NoResponders) as exc:
            if self.config.on_timeout is TimeoutPolicy.SKIP:
                return [envelope]
            raise DeliveryFailed(f"enrich from {self.config.subject}: {exc}") from None
        answer = evaluate_for("enrich reply", self.config.reply, reply)
        data: dict[str, Any] = dict(envelope.data or {})
        _copy_path(data, self.config.into)
        put(data, self.config.into, answer)
        return [envelope.model_copy(update={"data": data})]


def _copy_path(data: dict[str, Any], dotted: str) -> None:
    # Copy the objects on the path before writing, so the input envelope is left as it was.
    node = data
    for part in dotted.split(".")[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            return
        node[part] = dict(child)
        node = node[part]
