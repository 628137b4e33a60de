"""The ``mqtt`` connector kind: a system's own MQTT topics (devices, vehicles, sensors).

Needs the ``mqtt`` extra (``pip install 'polestar[mqtt]'``). This module
imports only the configuration; the client is imported when a connector is
built, so the kind is listed even where the extra is missing.
"""

from __future__ import annotations

from typing import Any

from polestar.connectors.contract import ConnectorKind, InboundConnector, OutboundConnector
from polestar.connectors.mqtt.config import MqttInboundConfig, MqttOutboundConfig

__all__ = ["KIND", "MqttInboundConfig", "MqttOutboundConfig"]


def _inbound(name: str, config: Any) -> InboundConnector:
    from polestar.connectors.mqtt.inbound import MqttInbound  # noqa: PLC0415 - needs the extra

    return MqttInbound(name, config)


def _outbound(name: str, config: Any) -> OutboundConnector:
    from polestar.connectors.mqtt.outbound import MqttOutbound  # noqa: PLC0415 - needs the extra

    return MqttOutbound(name, config)


KIND = ConnectorKind(
    name="mqtt",
    inbound_config=MqttInboundConfig,
    outbound_config=MqttOutboundConfig,
    inbound=_inbound,
    outbound=_outbound,
    extra="mqtt",
)
"""The kind as registered in the connector registry."""
