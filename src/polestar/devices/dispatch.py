"""Dispatches to devices: incidents assigned to a unit, pushed in bus order, resumable by sequence.

The bus is the record. One tail task per hub process reads the dispatch
subjects from the bus (through the bus contract's ``BusEngine.tail``; see
``polestar.devices.tail``) and wakes the streams whose unit is assigned; a
stream that reconnects with ``Last-Event-ID`` (the bus sequence of the last
dispatch it saw) replays everything after it *from the bus*, so a device
misses nothing that happened while it was away, across restarts and hub
processes.
Order is the bus's publish order, hence per incident the order CAD sent.

A stream that falls too far behind is ended rather than left to buffer without
bound: the device reconnects and replays from the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from polestar.audit import AuditError
from polestar.background import stop_task
from polestar.bus.contract import BusEngine, BusMessage
from polestar.devices.config import DispatchConfig
from polestar.devices.tail import BATCH, FETCH_WAIT, BusTail, tail_for
from polestar.errors import PolestarError

log = logging.getLogger(__name__)

QUEUE_LIMIT = 1000
"""Dispatches one stream may hold unread before it is ended (and resumes from the bus)."""


class StreamOverrun(PolestarError):  # noqa: N818 - the state, as the device sees it
    """A stream fell too far behind; it ends and the device resumes with Last-Event-ID."""


def assigned_units(message: BusMessage) -> set[str]:
    """The call signs an incident event says are assigned (upper case)."""
    data = message.envelope.data or {}
    units = data.get("assigned_units") or []
    return {str(u).upper() for u in units if u}


def dispatch_payload(message: BusMessage, call_sign: str) -> dict[str, Any]:
    """What a device is sent for one dispatch: the incident as it now is, in the device's terms."""
    envelope = message.envelope
    data = envelope.data or {}
    reference = data.get("reference") or envelope.subject
    return {
        "incidentNumber": reference,
        "callSign": call_sign,
        "grade": data.get("grade"),
        "status": data.get("status"),
        "summary": data.get("summary"),
        "openedAt": data.get("opened_at"),
        "assignedUnits": sorted(assigned_units(message)),
        "eventId": envelope.id,
        "eventType": envelope.type,
        "time": envelope.time.isoformat(),
    }


@dataclass(eq=False)
class _Listener:
    call_sign: str
    queue: asyncio.Queue[BusMessage] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    overrun: bool = False


class DispatchFeed:
    """Fans dispatches on the bus out to the devices of the units assigned."""

    def __init__(self, config: DispatchConfig, bus: Callable[[], BusEngine | None]) -> None:
        self.config = config
        self._bus = bus
        self._listeners: set[_Listener] = set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.position: int | None = None
        """The bus sequence the tail has read up to (None until it has looked)."""

    def streams(self, call_sign: str) -> int:
        """How many streams are open for ``call_sign``."""
        return sum(1 for listener in self._listeners if listener.call_sign == call_sign.upper())

    async def start(self) -> None:
        """Start tailing the bus in the background (it waits for the bus)."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._tail(), name="polestar-devices-dispatch-tail")

    async def close(self) -> None:
        """Stop the tail; open streams end."""
        task, self._task = self._task, None
        if task is not None:
            # A flag as well as a cancel: nats-py can swallow a cancel (see polestar.background).
            self._stopping.set()
            await stop_task(task)
        for listener in self._listeners:
            listener.overrun = True
            with contextlib.suppress(asyncio.QueueFull):
                listener.queue.put_nowait(_STOP)

    async def _tail(self) -> None:
        tail: BusTail | None = None
        tailed: BusEngine | None = None  # the engine ``tail`` reads (the bus component may replace it)
        try:
            while not self._stopping.is_set():
                bus = self._bus()
                try:
                    if bus is None:
                        await asyncio.sleep(self.config.poll_seconds)
                        continue
                    if tail is None or tailed is not bus:
                        if tail is not None:
                            await tail.close()
                        tail, tailed = tail_for(bus, self.config.subjects), bus
                    if self.position is None:
                        self.position = (await bus.stats()).last_sequence
                    batch = await tail.fetch(self.position, limit=BATCH, wait=FETCH_WAIT)
                    for message in batch.messages:
                        self._fan_out(message)
                    self.position = batch.position
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # The bus may be restarting or unreachable; streams keep waiting and resume after.
                    log.warning("dispatch tail could not read the bus; retrying", exc_info=True)
                    await asyncio.sleep(max(self.config.poll_seconds, 1.0))
        finally:
            if tail is not None:
                await tail.close()

    def _fan_out(self, message: BusMessage) -> None:
        units = assigned_units(message)
        for listener in self._listeners:
            if listener.call_sign in units and not listener.overrun:
                try:
                    listener.queue.put_nowait(message)
                except asyncio.QueueFull:
                    listener.overrun = True

    async def follow(self, call_sign: str, after: int | None) -> AsyncIterator[BusMessage | None]:
        """Dispatches for ``call_sign`` after bus sequence ``after`` (None: from now), then live.

        Yields None when ``heartbeat_seconds`` pass quietly (for a keep-alive); raises
        ``StreamOverrun`` when the device fell too far behind.
        """
        listener = _Listener(call_sign.upper())
        # Listen before replaying, so nothing published during the replay is missed.
        self._listeners.add(listener)
        try:
            last = after if after is not None else -1
            if after is not None:
                bus = self._bus()
                if bus is not None:
                    async for message in bus.read(
                        from_sequence=after + 1, subjects=self.config.subjects, limit=self.config.replay_limit
                    ):
                        if listener.call_sign in assigned_units(message):
                            last = message.sequence
                            yield message
            while True:
                try:
                    async with asyncio.timeout(self.config.heartbeat_seconds):
                        message = await listener.queue.get()
                except TimeoutError:
                    yield None
                    continue
                if message is _STOP or listener.overrun:
                    raise StreamOverrun(f"the dispatch stream for {listener.call_sign} fell behind or closed")
                if message.sequence > last:
                    last = message.sequence
                    yield message
        finally:
            self._listeners.discard(listener)


async def sse_events(
    feed: DispatchFeed,
    call_sign: str,
    after: int | None,
    may_receive: Callable[[BusMessage], Awaitable[bool]] | None = None,
) -> AsyncIterator[bytes]:
    """The Server-Sent Events of ``call_sign``'s dispatches after bus sequence ``after``.

    ``may_receive`` leaves out a dispatch policy does not let this device receive (an incident
    marked above its officer's clearance); if the decision cannot be recorded the stream ends.
    """
    yield b": dispatches for " + call_sign.encode() + b"\nretry: 1000\n\n"
    try:
        async for message in feed.follow(call_sign, after):
            if message is None:
                yield b": keep-alive\n\n"
                continue
            if may_receive is not None and not await may_receive(message):
                continue
            data = json.dumps(dispatch_payload(message, call_sign), separators=(",", ":"))
            yield f"id: {message.sequence}\nevent: dispatch\ndata: {data}\n\n".encode()
    except (StreamOverrun, AuditError):
        # Overrun: the device resumes from the bus. Audit down: nothing is disclosed unrecorded.
        return


_STOP: Any = object()
