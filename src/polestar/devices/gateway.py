"""The running gateway: the desks and the dispatch feed built from one configuration.

``apply`` moves the gateway to a new configuration part by part, so a reload
disturbs only what changed:

* ``checks`` changed: a new ``ChecksDesk`` (its circuit breaker starts closed);
  a check under way finishes on the old one.
* ``status`` changed: a new ``StatusDesk``; it learns each incident's last
  sequence from the bus again, so ordering holds across the change.
* ``dispatch`` changed: a new ``DispatchFeed`` starts from the old one's bus
  position before the old one stops; its open streams end, and their devices
  reconnect with ``Last-Event-ID`` and miss nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from polestar.bus.contract import BusEngine
from polestar.connectors.contract import OutboundConnector
from polestar.devices.checks import ChecksDesk
from polestar.devices.config import DeviceGatewayConfig
from polestar.devices.dispatch import DispatchFeed
from polestar.devices.status import StatusDesk


class DeviceGateway:
    """Checks, status and dispatch, as configured now. Constructing it starts nothing.

    Args:
        connector: finds an outbound connector by name (the one answering checks).
        bus: the bus engine now (None while it is not connected).
        gate: the data-sharing agreement gate asked before a check (None: no gate).
    """

    def __init__(
        self,
        connector: Callable[[str], OutboundConnector | None],
        bus: Callable[[], BusEngine | None],
        gate: Callable[[], Any],
    ) -> None:
        self._connector = connector
        self._bus = bus
        self._gate = gate
        self.config: DeviceGatewayConfig | None = None
        self.checks: ChecksDesk | None = None
        self.status: StatusDesk | None = None
        self.feed: DispatchFeed | None = None

    async def apply(self, config: DeviceGatewayConfig) -> tuple[str, ...]:
        """Run ``config`` from now on; the parts (checks, status, dispatch) that changed."""
        old = self.config
        changed: list[str] = []
        if old is None or old.checks != config.checks:
            checks = config.checks
            self.checks = ChecksDesk(checks, self._connector, system=checks.system, gate=self._gate)
            changed.append("checks")
        if old is None or old.status != config.status:
            self.status = StatusDesk(config.status, self._bus)
            changed.append("status")
        if old is None or old.dispatch != config.dispatch or self.feed is None:
            previous = self.feed
            feed = DispatchFeed(config.dispatch, self._bus)
            feed.position = None if previous is None else previous.position
            await feed.start()
            self.feed = feed
            if previous is not None:
                await previous.close()
            changed.append("dispatch")
        self.config = config
        return tuple(changed)

    async def close(self) -> None:
        """Stop the dispatch feed (streams end; devices resume with Last-Event-ID); forget the rest."""
        feed, self.feed = self.feed, None
        self.config, self.checks, self.status = None, None, None
        if feed is not None:
            await feed.close()
