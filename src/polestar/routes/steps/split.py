"""``split``: one message per item of an array, with ids derived from the input and the position."""

from __future__ import annotations

from collections.abc import Sequence

from polestar.bus.worker import Reject
from polestar.model.envelope import Envelope
from polestar.routes.config import SplitStep
from polestar.routes.derive import derived_id, route_source
from polestar.routes.expressions import evaluate_for


class Split:
    """Makes an envelope caused by the input for each item ``config.expr`` selects."""

    def __init__(self, config: SplitStep, *, route: str, index: int) -> None:
        self.config = config
        self.route = route
        self.label = f"split{index}"

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """One envelope per item."""
        items = evaluate_for("split", self.config.expr, envelope)
        if items is None:
            return []
        if not isinstance(items, list):
            raise Reject(f"split: {self.config.expr!r} gave {type(items).__name__}, not an array")
        return [
            envelope.caused(
                id=derived_id(self.route, self.label, envelope.id, number),
                time=envelope.time,
                source=route_source(self.route),
                type=self.config.type or envelope.type,
                subject=envelope.subject,
                data=item if isinstance(item, dict) else {"item": item},
            )
            for number, item in enumerate(items)
        ]
