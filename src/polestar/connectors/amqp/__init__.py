"""The ``amqp`` connector kind: a system's own RabbitMQ (AMQP 0-9-1) queues and exchanges.

Needs the ``amqp`` extra (``pip install 'polestar[amqp]'``). This module
imports only the configuration; the client is imported when a connector is
built, so the kind is listed even where the extra is missing.
"""

from __future__ import annotations

from typing import Any

from polestar.connectors.amqp.config import AmqpInboundConfig, AmqpOutboundConfig
from polestar.connectors.contract import ConnectorKind, InboundConnector, OutboundConnector

__all__ = ["KIND", "AmqpInboundConfig", "AmqpOutboundConfig"]


def _inbound(name: str, config: Any) -> InboundConnector:
    from polestar.connectors.amqp.inbound import AmqpInbound  # noqa: PLC0415 - needs the extra

    return AmqpInbound(name, config)


def _outbound(name: str, config: Any) -> OutboundConnector:
    from polestar.connectors.amqp.outbound import AmqpOutbound  # noqa: PLC0415 - needs the extra

    return AmqpOutbound(name, config)


KIND = ConnectorKind(
    name="amqp",
    inbound_config=AmqpInboundConfig,
    outbound_config=AmqpOutboundConfig,
    inbound=_inbound,
    outbound=_outbound,
    extra="amqp",
)
"""The kind as registered in the connector registry."""
