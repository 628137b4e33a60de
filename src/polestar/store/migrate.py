"""The store's Alembic migrations, run from code: ``upgrade`` at start, ``differences`` in tests.

The environment lives in ``polestar/store/migrations`` (inside the package, so
an installed hub can migrate itself). Its version table is
``store_alembic_version`` and it looks only at the store's own tables, so the
store can share a database (the embedded file, a PostgreSQL schema) with the
audit log and the bus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, func, select

from polestar.store.engines import engine_for
from polestar.store.tables import VERSION_TABLE, metadata

MIGRATIONS = Path(__file__).parent / "migrations"

_LOCK_KEY = 0x706F6C65  # "pole": one PostgreSQL advisory lock key for store migrations


def include_name(name: str | None, type_: str, _parents: Any) -> bool:
    """Only the store's own tables (and everything within them) are the migrations' business."""
    if type_ == "table":
        return name is not None and name in metadata.tables
    return True


def context_options(connection: Connection) -> dict[str, Any]:
    """The options the environment and ``differences`` configure Alembic with."""
    return {
        "target_metadata": metadata,
        "version_table": VERSION_TABLE,
        "include_name": include_name,
        "compare_type": True,
        "render_as_batch": connection.dialect.name == "sqlite",
    }


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration that runs on ``connection`` (no ``alembic.ini`` is needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade_connection(connection: Connection, revision: str = "head") -> None:
    """Migrate in one transaction on ``connection``; hub processes starting together take turns."""
    with connection.begin():
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
        command.upgrade(alembic_config(connection), revision)


def upgrade(target: str | Engine, revision: str = "head", *, schema: str | None = None) -> None:
    """Bring a store database (a URL or an engine) up to ``revision``."""
    engine = engine_for(target, schema=schema) if isinstance(target, str) else target
    try:
        with engine.connect() as connection:
            upgrade_connection(connection, revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def differences(engine: Engine) -> list[Any]:
    """What autogenerate would change to make the database match ``tables``: empty when in step."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=context_options(connection))
        return list(compare_metadata(context, metadata))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None if the store was never migrated."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()
