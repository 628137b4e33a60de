"""``choice``: the content-based router, which picks the outputs a message goes to."""

from __future__ import annotations

from polestar.model.envelope import Envelope
from polestar.routes.config import ChoiceStep
from polestar.routes.expressions import evaluate_for, truthy


class ContentRouter:
    """The outputs of the first branch whose expression is true, else ``otherwise``."""

    def __init__(self, config: ChoiceStep) -> None:
        self.config = config

    def select(self, envelope: Envelope) -> tuple[str, ...]:
        """Names of the outputs for ``envelope``; empty means filtered."""
        for branch in self.config.when:
            if truthy(evaluate_for("choice", branch.expr, envelope)):
                return branch.to
        return self.config.otherwise
