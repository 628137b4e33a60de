"""Small builders shared by the contract tests."""

from __future__ import annotations

import asyncio
import time

from polestar.bus.contract import BackoffPolicy, Consumer, ConsumerSpec, Delivery
from polestar.model.envelope import Envelope

FAST_BACKOFF = BackoffPolicy(initial=0.05, multiplier=1.0, maximum=0.05, jitter=0.0)


def event(
    n: int = 0, key: str | None = None, kind: str = "custody.detainee.released", **data: object
) -> Envelope:
    return Envelope(
        source="/tests/bus",
        type=kind,
        subject=f"CUS-{n}",
        partitionkey=key,
        data={"n": n, **data},
    )


def spec(group: str = "g", **changes: object) -> ConsumerSpec:
    values: dict[str, object] = {"group": group, "ack_wait": 1.0, "backoff": FAST_BACKOFF}
    values.update(changes)
    return ConsumerSpec.model_validate(values)


async def collect(consumer: Consumer, count: int, timeout: float = 10.0, batch: int = 10) -> list[Delivery]:
    """Fetch until ``count`` deliveries arrived or ``timeout`` passed (unsettled)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += await consumer.fetch(
            min(batch, count - len(got)), timeout=min(0.5, deadline - time.monotonic())
        )
    return got


async def ack_all(deliveries: list[Delivery]) -> None:
    await asyncio.gather(*(d.ack() for d in deliveries))


def numbers(deliveries: list[Delivery]) -> list[int]:
    return [d.message.envelope.data["n"] for d in deliveries if d.message.envelope.data]
