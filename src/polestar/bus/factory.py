"""Opening the configured bus engine."""

from __future__ import annotations

from pathlib import Path

from polestar.bus.config import BusConfig, JetStreamBusConfig, SqliteBusConfig
from polestar.bus.contract import BusEngine


def open_engine(config: BusConfig, data_dir: Path) -> BusEngine:
    """The engine ``config.kind`` names, constructed but not started (no I/O yet).

    The JetStream engine is imported only when chosen, so the embedded profile
    runs without nats-py installed.
    """
    if isinstance(config, SqliteBusConfig):
        from polestar.bus.sqlite import SqliteEngine  # noqa: PLC0415 - keeps imports per engine

        return SqliteEngine(config, data_dir=data_dir)
    if isinstance(config, JetStreamBusConfig):
        try:
            from polestar.bus.jetstream import JetStreamEngine  # noqa: PLC0415 - optional extra
        except ImportError as exc:
            raise ImportError(
                "the jetstream bus needs nats-py: install polestar[nats] (pip install 'polestar[nats]')"
            ) from exc
        return JetStreamEngine(config)
    raise TypeError(f"unknown bus configuration {type(config).__name__}")
