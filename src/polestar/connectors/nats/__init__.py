"""The ``nats`` connector kind: a system's own NATS subjects, core or JetStream.

Needs the ``nats`` extra (``pip install 'polestar[nats]'``). This module
imports only the configuration; the client is imported when a connector is
built, so the kind is listed even where the extra is missing.
"""

from __future__ import annotations

from typing import Any

from polestar.connectors.contract import ConnectorKind, InboundConnector, OutboundConnector
from polestar.connectors.nats.config import JetStreamPull, NatsInboundConfig, NatsOutboundConfig

__all__ = ["KIND", "JetStreamPull", "NatsInboundConfig", "NatsOutboundConfig"]


def _inbound(name: str, config: Any) -> InboundConnector:
    from polestar.connectors.nats.inbound import NatsInbound  # noqa: PLC0415 - needs the extra

    return NatsInbound(name, config)


def _outbound(name: str, config: Any) -> OutboundConnector:
    from polestar.connectors.nats.outbound import NatsOutbound  # noqa: PLC0415 - needs the extra

    return NatsOutbound(name, config)


KIND = ConnectorKind(
    name="nats",
    inbound_config=NatsInboundConfig,
    outbound_config=NatsOutboundConfig,
    inbound=_inbound,
    outbound=_outbound,
    extra="nats",
)
"""The kind as registered in the connector registry."""
