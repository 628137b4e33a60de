"""``BusEngine.tail`` on the embedded engine: reads of the local file, woken by local commits.

A fetch reads the stream after the position it is given, a page at a time, on
the engine's reader connection (beside the writer, as ``read`` does), and keeps
the messages its filters match. Finding none, it waits for the engine's wake-up
signal, which every local commit that may add work sets, or for ``OTHERS_POLL``
(or the engine's poll interval, if longer), after which it looks for what other
processes wrote. (A dead letter
sent back to its group is a lease here, not a new stream message, so there is
nothing to skip.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from pydantic import ValidationError

from polestar.bus.contract import BusMessage, check_filter
from polestar.bus.sqlite.core import BusCore
from polestar.bus.sqlite.rows import StoredMessage
from polestar.bus.sqlite.rules import GroupRules
from polestar.bus.tailing import TAIL_BATCH, TAIL_WAIT, TailBatch
from polestar.errors import BusClosed

log = logging.getLogger(__name__)

ReadPage = Callable[[int, int], Awaitable[list[StoredMessage]]]
"""Reads up to ``limit`` stored messages from a sequence on (the engine's reader connection)."""

PAGE = 500
"""Stream rows one read looks at."""

MAX_PAGES = 16
"""Most pages one fetch reads before returning what it has (a long run of other subjects)."""

OTHERS_POLL = 0.25
"""Seconds between looks for what *other* processes wrote, unless the engine polls less often.

Local commits wake a tail at once; only another process's writes need a look at
the file, and a follower (a device's dispatch feed, one per open stream) need not
look as often as a consumer group does: at the engine's 0.02-0.05 s an idle feed
cost 1-2.5% of a core, at 0.25 s about a fifth of that.
"""


class SqliteTail:
    """Follows some subjects of the embedded bus; holds nothing, so ``close`` only marks it closed."""

    def __init__(self, core: BusCore, read_page: ReadPage, subjects: Sequence[str]) -> None:
        self._core = core
        self._read_page = read_page
        self._rules = GroupRules(
            "tail", tuple(check_filter(s) for s in subjects), ordered=False, ack_wait=1.0, max_attempts=1
        )
        self._closed = False

    async def fetch(self, after: int, *, limit: int = TAIL_BATCH, wait: float = TAIL_WAIT) -> TailBatch:
        """Up to ``limit`` messages after ``after``: at once if stored, else within ``wait`` seconds."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, wait)
        while True:
            if self._closed or self._core.closed:
                raise BusClosed("the tail (or its SQLite bus engine) is closed")
            woken = self._core.signal.current()  # taken before looking, so no commit is missed
            found, position = await self._read(after, limit)
            if found or position > after:
                return TailBatch(tuple(found), position)
            remaining = deadline - loop.time()
            if remaining <= 0:
                return TailBatch((), after)
            await self._core.signal.wait(woken, min(remaining, max(self._core.poll_interval, OTHERS_POLL)))

    async def _read(self, after: int, limit: int) -> tuple[list[BusMessage], int]:
        found: list[BusMessage] = []
        position = after
        for _ in range(MAX_PAGES):
            page = await self._read_page(position + 1, PAGE)
            for stored in page:
                position = stored.seq
                if not self._rules.matches(stored.subject):
                    continue
                try:
                    found.append(stored.decode())
                except ValidationError:
                    # Publish validates every envelope: only a corrupt file gets here.
                    log.exception("undecodable message %s skipped by a tail", stored.seq)
                    continue
                if len(found) >= limit:
                    return found, position
            if len(page) < PAGE:
                break
        return found, position

    async def close(self) -> None:
        """Stop: later fetches raise ``BusClosed``."""
        self._closed = True
