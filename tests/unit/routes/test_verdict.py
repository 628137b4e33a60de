from __future__ import annotations

import pytest

from polestar.bus.contract import BackoffPolicy, ConsumerSpec
from polestar.bus.worker import Reject
from polestar.errors import CircuitOpen, DeliveryFailed, DeliveryRefused, MappingFailed, PublishRefused
from polestar.routes.runner import Action, verdict

SPEC = ConsumerSpec(group="route-x", backoff=BackoffPolicy(initial=1, multiplier=2, maximum=60, jitter=0))


@pytest.mark.parametrize(
    ("error", "attempt", "action", "delay"),
    [
        (DeliveryFailed("503"), 1, Action.RETRY, 1.0),
        (DeliveryFailed("503"), 3, Action.RETRY, 4.0),
        (DeliveryFailed("429", retry_after=30), 1, Action.RETRY, 30.0),
        (DeliveryFailed("429", retry_after=0.5), 3, Action.RETRY, 4.0),
        (CircuitOpen("open", retry_after=12), 1, Action.RETRY, 12.0),
        (DeliveryRefused("422"), 1, Action.DEAD_LETTER, None),
        (MappingFailed("no surname", field="surname"), 1, Action.DEAD_LETTER, None),
        (Reject("bad expression"), 1, Action.DEAD_LETTER, None),
        (PublishRefused("too big"), 1, Action.DEAD_LETTER, None),
        (RuntimeError("bug"), 1, Action.RETRY, None),
    ],
)
def test_each_failure_is_settled_as_the_route_contract_says(error, attempt, action, delay) -> None:
    decided = verdict(error, attempt=attempt, spec=SPEC)
    assert decided.action is action
    assert decided.delay == delay
    assert type(error).__name__ in decided.reason
