"""``filter``: keep a message only when an expression over it is true."""

from __future__ import annotations

from collections.abc import Sequence

from polestar.model.envelope import Envelope
from polestar.routes.config import FilterStep
from polestar.routes.expressions import evaluate_for, truthy


class Filter:
    """Passes the envelope on when ``config.expr`` is truthy, else returns nothing."""

    def __init__(self, config: FilterStep) -> None:
        self.config = config

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """The envelope if the expression holds, else nothing."""
        keep = truthy(evaluate_for("filter", self.config.expr, envelope))
        return [envelope] if keep else []
