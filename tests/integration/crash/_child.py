"""A publisher or consumer process for the crash test; the test kills it with SIGKILL.

Usage: ``python _child.py publisher|consumer CONFIG_JSON``. The publisher publishes
messages ``msg-<i>`` for i in [0, total) in small batches, appending each batch's
acknowledged indices to ``acked.log`` only after ``publish_many`` returned (i.e.
once they are durable). On restart it resumes from the last logged index;
messages sent but not logged are sent again under the same id and the bus
removes the duplicates.

The consumer applies each message's side effect (one row in ``effects``) in the
same transaction as the idempotent-consumer record, then acks. A kill between
commit and ack causes a redelivery that the idempotent consumer skips.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from polestar.bus.config import JetStreamBusConfig, SqliteBusConfig
from polestar.bus.contract import ConsumerSpec
from polestar.bus.factory import open_engine
from polestar.model.envelope import Envelope

BATCH = 10


def engine_from(cfg: dict[str, Any]) -> Any:
    workdir = Path(cfg["workdir"])
    if cfg["engine"] == "sqlite":
        return open_engine(SqliteBusConfig.model_validate(cfg["bus"]), workdir)
    return open_engine(JetStreamBusConfig.model_validate(cfg["bus"]), workdir)


async def publisher(cfg: dict[str, Any]) -> None:
    log = Path(cfg["workdir"]) / "acked.log"
    done = {int(x) for x in log.read_text().split()} if log.exists() else set()
    start = max(done) + 1 if done else 0
    engine = engine_from(cfg)
    await engine.start()
    with log.open("a") as out:
        for base in range(start, cfg["total"], BATCH):
            ids = range(base, min(cfg["total"], base + BATCH))
            items = [
                (
                    Envelope(
                        id=f"msg-{i}",
                        source="/crash/publisher",
                        type="crash.record.created",
                        partitionkey=f"k{i % 16}",
                        data={"i": i},
                    ),
                    "crash.records",
                )
                for i in ids
            ]
            await engine.publish_many(items)
            out.write("".join(f"{i}\n" for i in ids))
            out.flush()
    (Path(cfg["workdir"]) / "publisher.done").touch()
    await engine.close()


async def consumer(cfg: dict[str, Any]) -> None:
    from _effects import open_effects  # noqa: PLC0415 - sibling module, path set by the test

    engine = engine_from(cfg)
    await engine.start()
    sub = await engine.subscribe(
        ConsumerSpec(group="effects", subjects=("crash.>",), ack_wait=2.0, max_attempts=1000)
    )
    effects = await open_effects(cfg, engine)
    # Tells the test this life is connected, so it kills the consumer mid-work rather than
    # mid-import (on a loaded machine the import alone can outlast a fixed kill clock).
    (Path(cfg["workdir"]) / "consumer.ready").touch()
    while True:
        batch = await sub.fetch(BATCH, timeout=0.5)
        for delivery in batch:
            env = delivery.message.envelope
            await effects.apply(env.id, int((env.data or {})["i"]))
            await delivery.ack()


if __name__ == "__main__":
    role, raw = sys.argv[1], sys.argv[2]
    config = json.loads(raw)
    asyncio.run(publisher(config) if role == "publisher" else consumer(config))
