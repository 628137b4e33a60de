"""Copying the WAL back into the database file on a thread of its own.

SQLite's automatic checkpoint runs inside the commit that crosses its
threshold, so every few thousand messages one commit of the writer (and every
publish waiting on it) takes tens or hundreds of milliseconds longer while
megabytes are copied and fsynced. ``Checkpointer`` does that work beside the
writer instead: a little after commits happen it runs a ``PASSIVE`` checkpoint
on its own connection, which never blocks the writer or readers. The writer's
automatic checkpoint stays on as a safety net should this thread fall behind.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL = 0.2
"""Seconds between checkpoints while commits keep coming (none while the bus is idle)."""


class Checkpointer:
    """Checkpoints the bus file after commits, on its own thread and connection.

    It is a ``TransactionListener`` of the writer: each commit only sets a flag.

    Args:
        connect: opens the checkpoint connection; called on the checkpointer's thread.
        interval: seconds to let commits gather before the next checkpoint.
    """

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], interval: float = CHECKPOINT_INTERVAL
    ) -> None:
        self._connect = connect
        self._interval = interval
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (its connection is opened there)."""
        self._thread = threading.Thread(target=self._run, name="polestar-bus-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, after a last checkpoint if anything was committed since the previous one."""
        if self._thread is None:
            return
        self._stopping.set()
        self._dirty.set()
        self._thread.join()
        self._thread = None

    def committed(self) -> None:
        """A write transaction committed (writer thread): checkpoint soon."""
        self._dirty.set()

    def rolled_back(self) -> None:
        """A write transaction rolled back: nothing new to copy."""

    def _run(self) -> None:
        try:
            conn = self._connect()
        except sqlite3.Error:
            log.exception("bus checkpoint thread cannot open the database; the writer checkpoints instead")
            return
        try:
            while not self._stopping.is_set():
                self._dirty.wait()
                # Let commits gather: one checkpoint copies a page once however often it changed.
                self._stopping.wait(self._interval)
                self._dirty.clear()
                self._checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # the writer's own checkpoint still runs; try again later
            log.warning("bus checkpoint failed: %s", exc)
