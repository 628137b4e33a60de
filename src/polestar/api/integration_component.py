"""The hub's integrations (connectors, mappings, routes) as a component of the API's lifespan.

The folder named by ``integration_dir`` is loaded once the bus is up (it may
come up later than the API: see ``BusComponent``) and then hot reloaded. An
invalid folder at start does not stop the hub: ``/ready`` names the problems,
and a corrected file is picked up by the watcher or by ``POST /routes/reload``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from polestar.api.bus_component import BusComponent
from polestar.api.health import ComponentStatus
from polestar.bus.contract import BusEngine
from polestar.connectors.ingest import CollectionRecorder
from polestar.errors import BusUnavailable, ConfigError
from polestar.routes.outputs import DeliveryRecorder
from polestar.routes.runtime import IntegrationRuntime
from polestar.routes.watcher import ConfigWatcher

log = logging.getLogger(__name__)


class _BusOfComponent:
    """Forwards to whichever engine the bus component has now, so the runtime can exist before it."""

    def __init__(self, component: BusComponent) -> None:
        self._component = component

    def __getattr__(self, name: str) -> Any:
        engine = self._component.engine
        if engine is None:
            raise BusUnavailable(f"the bus is not connected ({self._component.reason or 'starting'})")
        return getattr(engine, name)


class IntegrationComponent:
    """Owns the ``IntegrationRuntime`` and its watcher for the hub's lifetime."""

    def __init__(
        self,
        config_dir: Path,
        bus: BusComponent,
        *,
        on_collected: CollectionRecorder | None = None,
        on_delivered: DeliveryRecorder | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.http_endpoints: dict[str, Any] = {}
        self.soap_endpoints: dict[str, Any] = {}
        # The runtime only touches the bus from start(), which waits for the engine.
        self.runtime = IntegrationRuntime(
            config_dir,
            cast(BusEngine, _BusOfComponent(bus)),
            http_endpoints=self.http_endpoints,
            soap_endpoints=self.soap_endpoints,
            on_collected=on_collected,
            on_delivered=on_delivered,
            variables=variables,
        )
        self._bus = bus
        self._watcher: ConfigWatcher | None = None
        self._task: asyncio.Task[None] | None = None
        self.status = ComponentStatus.STARTING
        self.reason: str | None = "waiting for the bus"

    async def start(self) -> None:
        """Begin loading in the background once the bus is connected; returns at once."""
        self._task = asyncio.create_task(self._start(), name="polestar-integration-start")

    async def _start(self) -> None:
        while self._bus.engine is None:  # noqa: ASYNC110 - the bus component has no event to await
            await asyncio.sleep(0.2)
        try:
            await self.runtime.start()
        except ConfigError as exc:
            self.status = ComponentStatus.UNAVAILABLE
            self.reason = f"{len(exc.problems)} problem(s) in {self.config_dir}: " + "; ".join(
                f"{where}: {why}" for where, why in exc.problems[:5]
            )
            log.error("integration folder is invalid; fix it and it will be reloaded: %s", exc)  # noqa: TRY400 - the problems, not a traceback
        else:
            self.status, self.reason = ComponentStatus.OK, None
        self._watcher = ConfigWatcher(self.runtime)
        self._watcher.start()

    def check(self) -> tuple[ComponentStatus, str | None]:
        """The component's readiness; a later valid reload turns it OK."""
        last = self.runtime.last_reload
        if self.status is ComponentStatus.UNAVAILABLE and last is not None and last.applied:
            self.status, self.reason = ComponentStatus.OK, None
        return self.status, self.reason

    async def close(self) -> None:
        """Stop watching, then stop routes and connectors (before the bus closes)."""
        self.status = ComponentStatus.STOPPING
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._watcher is not None:
            await self._watcher.stop()
        await self.runtime.stop()
