"""Durable consumers for consumer groups: creating, finding, moving back and counting them.

A plain group is one durable named after the group, filtered to its subjects in
any partition; its members compete for messages on it. A group ordered by key
is one durable per partition (``<group>_p<n>``) with ``max_ack_pending=1``:
JetStream then never hands out a second message of that partition before the
first is settled, so no key is ever in flight twice and keys come in publish
order, while the partitions run in parallel. The price: unrelated keys that
hash to the same partition wait for each other (head-of-line blocking), and
parallelism is capped at ``partitions``.
"""

from __future__ import annotations

from datetime import datetime

from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from polestar.bus.contract import ConsumerSpec, DeliverPolicy, GroupStats
from polestar.bus.jetstream._names import Names
from polestar.bus.jetstream._reader import start_at

MAX_ACK_PENDING = 20_000
"""In flight per plain group: enough for several members fetching large batches."""


def _filter(spec: ConsumerSpec, names: Names, partition: int | None) -> tuple[str, bool]:
    """The server-side filter, and whether it is exact (JetStream 2.9 takes only one)."""
    if len(spec.subjects) == 1:
        return names.event_filter(spec.subjects[0], partition), True
    return names.event_filter(">", partition), False


def durables(spec: ConsumerSpec, names: Names) -> list[tuple[str, int | None]]:
    """The durable names a group uses, with the partition each serves."""
    if not spec.ordered_by_key:
        return [(Names.durable(spec.group), None)]
    return [(Names.durable(spec.group, p), p) for p in range(names.partitions)]


def consumer_config(spec: ConsumerSpec, names: Names, partition: int | None) -> api.ConsumerConfig:
    """The durable consumer for ``spec`` (or one partition of it)."""
    durable = Names.durable(spec.group, partition)
    subject, _ = _filter(spec, names, partition)
    return api.ConsumerConfig(
        name=durable,
        durable_name=durable,
        description=Names.description(spec.group, partition, names.partitions),
        deliver_policy=api.DeliverPolicy.NEW if spec.deliver is DeliverPolicy.NEW else api.DeliverPolicy.ALL,
        ack_policy=api.AckPolicy.EXPLICIT,
        ack_wait=spec.ack_wait,
        max_deliver=-1,  # the engine dead-letters; see _consumer.py
        filter_subject=subject,
        max_ack_pending=1 if spec.ordered_by_key else MAX_ACK_PENDING,
        replay_policy=api.ReplayPolicy.INSTANT,
    )


def filters_exact(spec: ConsumerSpec) -> bool:
    """True when the server filters exactly what the group asked for."""
    return len(spec.subjects) == 1


async def ensure(js: JetStreamContext, spec: ConsumerSpec, names: Names) -> list[str]:
    """Create the group's durables if missing; existing ones keep their position."""
    created: list[str] = []
    for durable, partition in durables(spec, names):
        try:
            await js.consumer_info(names.events_stream, durable)
        except NotFoundError:
            # Members racing to create the same durable send identical configs, which the server accepts.
            await js.add_consumer(names.events_stream, consumer_config(spec, names, partition))
        created.append(durable)
    return created


async def group_consumers(
    js: JetStreamContext, names: Names, group: str | None = None
) -> list[api.ConsumerInfo]:
    """The durables Polestar created on the events stream, for one group or all."""
    found: list[api.ConsumerInfo] = []
    offset = 0
    while True:
        page = await js.consumers_info(names.events_stream, offset=offset)
        if not page:
            return found
        offset += len(page)
        for info in page:
            owner = Names.group_of_description(info.config.description)
            if owner is not None and (group is None or owner == group):
                found.append(info)


async def move_back(
    js: JetStreamContext,
    names: Names,
    group: str,
    *,
    from_sequence: int | None,
    from_time: datetime | None,
) -> int:
    """Recreate the group's durables to start again from a sequence or a time; returns how many."""
    infos = await group_consumers(js, names, group)
    for info in infos:
        config = info.config
        start_at(config, from_sequence, from_time)
        await js.delete_consumer(names.events_stream, info.name)
        await js.add_consumer(names.events_stream, config)
    return len(infos)


def group_stats(infos: list[api.ConsumerInfo], dead_letters: dict[str, int]) -> tuple[GroupStats, ...]:
    """Backlog per group, summed over its durables."""
    by_group: dict[str, list[api.ConsumerInfo]] = {}
    for info in infos:
        owner = Names.group_of_description(info.config.description)
        if owner is not None:
            by_group.setdefault(owner, []).append(info)
    stats = []
    for group, members in sorted(by_group.items()):
        stats.append(
            GroupStats(
                group=group,
                pending=sum(i.num_pending or 0 for i in members),
                in_flight=sum(i.num_ack_pending or 0 for i in members),
                redelivering=sum(i.num_redelivered or 0 for i in members),
                dead_letters=dead_letters.get(group, 0),
                last_sequence=max((i.delivered.stream_seq if i.delivered else 0) for i in members),
            )
        )
    return tuple(stats)
