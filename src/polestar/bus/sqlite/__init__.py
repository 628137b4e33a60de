"""The embedded bus engine: SQLite in WAL mode with group commit (see ``engine``)."""

from polestar.bus.sqlite.consumer import SqliteConsumer, SqliteDelivery
from polestar.bus.sqlite.engine import SqliteEngine

__all__ = ["SqliteConsumer", "SqliteDelivery", "SqliteEngine"]
