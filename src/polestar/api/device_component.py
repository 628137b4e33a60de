"""The officer device gateway as a component of the running API: configured, reloaded, stopped.

``DeviceComponent`` owns the gateway (``polestar.devices``) and the watcher of
``devices/*.yaml`` in the integration folder for the hub's lifetime; without
that configuration the device endpoints answer 503. The endpoints themselves
(checks, dispatches, status) are ``polestar.api.device_routes``
(``create_device_router``, importable from here as well).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from polestar.api.bus_component import BusComponent
from polestar.api.device_routes import DEVICE_RESPONSES, DeviceState, create_device_router, run_check
from polestar.api.health import ComponentStatus
from polestar.api.integration_component import IntegrationComponent
from polestar.bus.contract import BusEngine
from polestar.connectors.contract import OutboundConnector
from polestar.devices import AuditRecorder, DeviceGatewayConfig, load_device_config
from polestar.devices.gateway import DeviceGateway
from polestar.devices.reload import DeviceConfigWatcher, device_fingerprint
from polestar.errors import ConfigError

__all__ = [
    "COMPONENT",
    "DEVICE_RESPONSES",
    "DeviceComponent",
    "DeviceState",
    "create_device_router",
    "run_check",
]

log = logging.getLogger(__name__)

COMPONENT = "devices"


class DeviceComponent:
    """Owns the gateway (``polestar.devices.gateway``) and the watcher of its files for the hub's lifetime.

    Args:
        integration: the integrations component (its runtime's connectors answer checks).
        bus: the bus component.
        components: the hub's component statuses; the gateway reports itself there once configured.
        record: appends an audit entry (``AuditComponent.record``); None records nothing.
    """

    def __init__(
        self,
        integration: IntegrationComponent | None,
        bus: BusComponent,
        *,
        components: dict[str, ComponentStatus],
        record: AuditRecorder | None,
    ) -> None:
        self.integration = integration
        self._bus_component = bus
        self._components = components
        self.record = record
        self.gateway = DeviceGateway(self._connector, self.bus, self._delivery_gate)
        self.reason: str | None = "not started"
        self.refused: ConfigError | None = None
        """The last change to the files that was refused (the running configuration carried on)."""
        self._watcher: DeviceConfigWatcher | None = None
        self._lock = asyncio.Lock()

    @property
    def config(self) -> DeviceGatewayConfig | None:
        """The configuration running now."""
        return self.gateway.config

    def bus(self) -> BusEngine | None:
        """The bus engine now (None while it is not connected)."""
        return self._bus_component.engine

    def _connector(self, name: str) -> OutboundConnector | None:
        if self.integration is None:
            return None
        return self.integration.runtime.outbound_connector(name)

    def _delivery_gate(self) -> Any:
        # The same agreement gate the routes runtime asks before every delivery (install_security sets it).
        return None if self.integration is None else self.integration.runtime.delivery_gate

    @property
    def folder(self) -> Path | None:
        """The integration folder the gateway is configured in."""
        return None if self.integration is None else self.integration.config_dir

    async def start(self) -> None:
        """Load ``devices/*.yaml`` and watch it; an invalid file is reported (``reason``, log), not raised."""
        if self.folder is None:
            self.reason = "no integration folder is configured"
            return
        tried = device_fingerprint(self.folder)
        await self.reload()
        if self.folder.is_dir():
            self._watcher = DeviceConfigWatcher(self.folder, self.reload, tried=tried)
            self._watcher.start()

    async def reload(self) -> tuple[str, ...]:
        """Load the files again and apply what changed; the parts changed (none if refused).

        A file with a problem is refused, each problem located (``FILE:LINE:COL path``), and the running
        configuration carries on.
        """
        assert self.folder is not None
        async with self._lock:
            try:
                config = load_device_config(self.folder)
            except ConfigError as exc:
                self.refused = exc
                problems = "; ".join(f"{where}: {why}" for where, why in exc.problems[:5])
                running = self.gateway.config is not None
                if not running:
                    self.reason = problems
                    self._components[COMPONENT] = ComponentStatus.UNAVAILABLE
                what = "config change refused; the running version carries on" if running else "not started"
                log.error("device gateway %s: %s", what, exc)  # noqa: TRY400 - located problems, not a crash
                return ()
            self.refused = None
            if config is None:
                await self.gateway.close()
                self.reason = f"no device gateway is configured in {self.folder}/devices"
                self._components.pop(COMPONENT, None)
                return ()
            first = self.gateway.config is None
            changed = await self.gateway.apply(config)
            self.reason = None
            self._components[COMPONENT] = ComponentStatus.OK
            if changed and not first:
                log.info("device gateway config reloaded: %s", ", ".join(changed))
            return changed

    async def close(self) -> None:
        """Stop watching, then the dispatch feed (open streams end; devices resume with Last-Event-ID)."""
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        await self.gateway.close()
        if COMPONENT in self._components:
            self._components[COMPONENT] = ComponentStatus.STOPPING
