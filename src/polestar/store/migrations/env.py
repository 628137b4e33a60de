"""Alembic environment for the store: runs on the connection ``polestar.store.migrate`` hands it."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from polestar.store.migrate import context_options


def run() -> None:
    """Run the migrations on the caller's connection, inside the caller's transaction."""
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise TypeError("run store migrations with polestar.store.migrate.upgrade, not the alembic CLI")
    context.configure(connection=connection, **context_options(connection))
    with context.begin_transaction():
        context.run_migrations()


run()
