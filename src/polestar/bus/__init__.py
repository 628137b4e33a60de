"""The durable event bus: one broker contract, an embedded SQLite engine and a JetStream engine."""

from polestar.bus.config import BusConfig, JetStreamBusConfig, SqliteBusConfig
from polestar.bus.contract import (
    BackoffPolicy,
    BusEngine,
    BusMessage,
    BusStats,
    Consumer,
    ConsumerSpec,
    DeadLetter,
    Delivery,
    GroupStats,
    PublishAck,
    RetentionPolicy,
)
from polestar.bus.tailing import BusTail, TailBatch

__all__ = [
    "BackoffPolicy",
    "BusConfig",
    "BusEngine",
    "BusMessage",
    "BusStats",
    "BusTail",
    "Consumer",
    "ConsumerSpec",
    "DeadLetter",
    "Delivery",
    "GroupStats",
    "JetStreamBusConfig",
    "PublishAck",
    "RetentionPolicy",
    "SqliteBusConfig",
    "TailBatch",
]
