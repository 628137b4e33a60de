"""The hub's bus as a component of the running API: opened in the lifespan, retried until it starts.

A hub whose broker is down still starts and answers ``/health``: operators on
a night shift need it up to see what is wrong. ``BusComponent`` makes the
first attempt while the API starts (waiting a bounded time), then keeps
retrying in the background with a capped exponential delay; ``/ready`` says
``unavailable`` with the reason until the engine has started, and probes it
with a timeout afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

from polestar.api.health import ComponentStatus
from polestar.bus.admin import BusAdmin, OperatorActionSink
from polestar.bus.config import BusConfig
from polestar.bus.contract import BusEngine
from polestar.bus.factory import open_engine

log = logging.getLogger("polestar.api.bus")

EngineFactory = Callable[[BusConfig, Path], BusEngine]
"""Builds an engine without I/O: ``polestar.bus.factory.open_engine``, or a test's own."""

STARTUP_WAIT = 15.0
"""Most seconds the API's startup waits for the bus before serving without it."""
ATTEMPT_TIMEOUT = 30.0
"""Most seconds one attempt to start the engine may take."""
PROBE_TIMEOUT = 2.0
"""Most seconds ``/ready`` waits for the bus to answer."""


class BusComponent:
    """The configured bus engine, its state and its operator interface, for the API.

    Args:
        config: the bus configuration.
        data_dir: the hub's data folder (the SQLite file lives under it).
        factory: builds the engine; ``open_engine`` unless a test supplies a double.
        on_action: where ``BusAdmin`` sends operator actions (default: logged).
        retry_initial: seconds before the first retry; doubles up to ``retry_max``.
        retry_max: the longest wait between retries.
    """

    def __init__(
        self,
        config: BusConfig,
        data_dir: Path,
        *,
        factory: EngineFactory = open_engine,
        on_action: OperatorActionSink | None = None,
        retry_initial: float = 1.0,
        retry_max: float = 30.0,
    ) -> None:
        self._config = config
        self._data_dir = data_dir
        self._factory = factory
        self._on_action = on_action
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self.status = ComponentStatus.STARTING
        self.reason: str | None = None
        self._engine: BusEngine | None = None
        self._admin: BusAdmin | None = None
        self._task: asyncio.Task[None] | None = None
        self._first_attempt = asyncio.Event()

    @property
    def engine(self) -> BusEngine | None:
        """The started engine, or None while the bus is unavailable."""
        return self._engine

    @property
    def admin(self) -> BusAdmin | None:
        """Operator operations on the started engine, or None while the bus is unavailable."""
        return self._admin

    async def start(self, wait: float = STARTUP_WAIT) -> None:
        """Begin connecting; return once the first attempt ends or ``wait`` seconds pass."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._connect(), name="polestar-bus-connect")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_attempt.wait(), wait)
        if not self._first_attempt.is_set():
            self.reason = f"still connecting after {wait:g} s"

    async def close(self) -> None:
        """Stop retrying and close the engine."""
        self.status = ComponentStatus.STOPPING
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        engine, self._engine, self._admin = self._engine, None, None
        if engine is not None:
            await engine.close()

    async def check(self, timeout: float = PROBE_TIMEOUT) -> tuple[ComponentStatus, str | None]:
        """The bus's readiness now: a started engine must answer a small query within ``timeout``."""
        engine = self._engine
        if engine is None or self.status is not ComponentStatus.OK:
            return self.status, self.reason
        try:
            # The cheapest question both engines answer from the broker itself.
            await asyncio.wait_for(engine.dead_letters(None, 1), timeout)
        except TimeoutError:
            return ComponentStatus.UNAVAILABLE, f"the {engine.name} bus did not answer within {timeout:g} s"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason is reported
            return ComponentStatus.UNAVAILABLE, _describe(exc)
        return ComponentStatus.OK, None

    async def _connect(self) -> None:
        delay = self._retry_initial
        failures = 0
        while True:
            engine: BusEngine | None = None
            try:
                engine = self._factory(self._config, self._data_dir)
                await asyncio.wait_for(engine.start(), ATTEMPT_TIMEOUT)
            except asyncio.CancelledError:
                # The hub is stopping mid-attempt: release whatever the attempt opened.
                if engine is not None:
                    with contextlib.suppress(Exception):
                        await engine.close()
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is reported and retried, never fatal
                failures += 1
                reason = _describe(exc)
                self.status, self.reason = ComponentStatus.UNAVAILABLE, f"{reason}; retrying in {delay:g} s"
                log.warning("the bus did not start: %s; retrying in %g s", reason, delay)
                if engine is not None:
                    with contextlib.suppress(Exception):
                        await engine.close()
            else:
                self._engine = engine
                self._admin = BusAdmin(engine, on_action=self._on_action)
                self.status, self.reason = ComponentStatus.OK, None
                if failures:
                    log.info("the bus has started after %d failed attempt(s)", failures)
                self._first_attempt.set()
                return
            self._first_attempt.set()
            await asyncio.sleep(delay)
            delay = min(self._retry_max, delay * 2)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {ATTEMPT_TIMEOUT:g} s"
    return str(exc) or type(exc).__name__
