"""``aggregate``: gather messages with the same key into one, complete by size or by time.

Durability comes from the bus, not from memory: every input stays in flight
(unacknowledged, its lease kept by the runner's heartbeat) until the aggregate
it joined has been delivered. The input that completes the aggregate carries
it on through the rest of the route; the others wait for its fate:

* delivered (or filtered later on) → every input is acknowledged;
* failed for now → every input fails too and is redelivered, to be gathered again;
* dead-lettered → every input is dead-lettered with the reason.

If the hub stops abruptly, the partial aggregate is lost from memory but its
inputs were never acknowledged, so they come back and are gathered again. On
a graceful stop or reload, ``close()`` completes partial aggregates early with
``completion: stop``. The aggregate's id is derived from its inputs' ids.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from polestar.bus.worker import Reject
from polestar.errors import DeliveryFailed, DeliveryRefused, MappingFailed, PublishRefused
from polestar.model.envelope import Envelope
from polestar.routes import settlement
from polestar.routes.config import AggregateStep
from polestar.routes.derive import derived_id, route_source
from polestar.routes.expressions import evaluate_for


class Completion(StrEnum):
    """Why an aggregate was completed."""

    SIZE = "size"
    TIMEOUT = "timeout"
    STOP = "stop"
    PREVIEW = "preview"
    """``polestar routes test``: one message makes an aggregate of one at once."""


@dataclass(eq=False)
class _Bucket:
    key: str
    members: list[Envelope] = field(default_factory=list)
    complete: asyncio.Event = field(default_factory=asyncio.Event)
    emitted: bool = False
    outcome: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Aggregator:
    """Gathers envelopes by key; returns the aggregate to the input that completes it, ``[]`` to the rest."""

    def __init__(self, config: AggregateStep, *, route: str, index: int, preview: bool = False) -> None:
        self.config = config
        self.route = route
        self.label = f"aggregate{index}"
        self.preview = preview
        self._buckets: dict[str, _Bucket] = {}
        self._closing = False

    @property
    def open_aggregates(self) -> int:
        """Aggregates being gathered now."""
        return len(self._buckets)

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """Gather ``envelope``: the input completing an aggregate carries it on, the rest get ``[]``."""
        key = str(evaluate_for("aggregate key", self.config.key, envelope))
        if self.preview:
            return [self._complete(_Bucket(key, [envelope]), Completion.PREVIEW)]
        existing = self._buckets.get(key)
        opener = existing is None
        bucket = self._buckets[key] = existing or _Bucket(key)
        bucket.members.append(envelope)
        if self.config.size is not None and len(bucket.members) >= self.config.size:
            return [self._complete(bucket, Completion.SIZE)]
        if self._closing:
            return [self._complete(bucket, Completion.STOP)]
        if opener:
            try:
                await asyncio.wait_for(bucket.complete.wait(), self.config.timeout)
            except TimeoutError:
                return [self._complete(bucket, Completion.TIMEOUT)]
            if not bucket.emitted:  # woken by close(): carry the partial aggregate on now
                return [self._complete(bucket, Completion.STOP)]
        await self._fate(bucket)
        return []

    def close(self) -> None:
        """Complete every partial aggregate now (graceful stop): their openers carry them on."""
        self._closing = True
        for bucket in self._buckets.values():
            bucket.complete.set()

    def _complete(self, bucket: _Bucket, completion: Completion) -> Envelope:
        if self._buckets.get(bucket.key) is bucket:
            del self._buckets[bucket.key]
        bucket.emitted = True
        bucket.complete.set()
        members = bucket.members
        first = members[0]
        aggregate = first.caused(
            id=derived_id(self.route, self.label, *sorted(m.id for m in members)),
            source=route_source(self.route),
            type=self.config.type or first.type,
            subject=first.subject,
            data={
                "key": bucket.key,
                "count": len(members),
                "completion": completion.value,
                "items": [m.data for m in members],
            },
        )
        scope = settlement.current()
        if scope is None:
            bucket.outcome.set_result(None)
        else:
            scope.on_settled(lambda error: _resolve(bucket.outcome, error))
        return aggregate

    async def _fate(self, bucket: _Bucket) -> None:
        scope = settlement.current()
        if scope is not None:
            scope.absorbed = True
        try:
            await asyncio.shield(bucket.outcome)
        except (Reject, DeliveryRefused, MappingFailed, PublishRefused) as exc:
            raise Reject(f"the aggregate this message joined was dead-lettered: {exc}") from None
        except DeliveryFailed as exc:
            raise DeliveryFailed(
                f"the aggregate this message joined was not delivered: {exc}", retry_after=exc.retry_after
            ) from None
        except Exception as exc:  # noqa: BLE001 - any failure of the aggregate fails its inputs
            raise DeliveryFailed(f"the aggregate this message joined failed: {exc}") from None


def _resolve(outcome: asyncio.Future[None], error: BaseException | None) -> None:
    with contextlib.suppress(asyncio.InvalidStateError):
        if error is None:
            outcome.set_result(None)
        else:
            outcome.set_exception(error)
            outcome.exception()  # retrieved here: an aggregate of one has nobody else waiting
