"""The ``soap`` connector kind: SOAP 1.1/1.2 envelopes over HTTP, XML parsed safely.

Inbound, the hub mounts ``create_soap_router(endpoints)`` and serves
``POST /soap/{connector}``; outbound, ``SoapOutbound`` calls a SOAP service
and returns its reply as the delivery receipt (request/reply, e.g. PNC
checks). It needs no extra: lxml and httpx are core dependencies.
"""

from __future__ import annotations

from typing import Any

from polestar.connectors.contract import ConnectorKind, InboundConnector, OutboundConnector
from polestar.connectors.soap.config import SoapInboundConfig, SoapOutboundConfig
from polestar.connectors.soap.inbound import SoapInbound, create_soap_router
from polestar.connectors.soap.outbound import SoapOutbound

__all__ = [
    "KIND",
    "SoapInbound",
    "SoapInboundConfig",
    "SoapOutbound",
    "SoapOutboundConfig",
    "create_soap_router",
]


def _inbound(name: str, config: Any) -> InboundConnector:
    return SoapInbound(name, config)


def _outbound(name: str, config: Any) -> OutboundConnector:
    return SoapOutbound(name, config)


KIND = ConnectorKind(
    name="soap",
    inbound_config=SoapInboundConfig,
    outbound_config=SoapOutboundConfig,
    inbound=_inbound,
    outbound=_outbound,
)
"""The kind as registered in the connector registry."""
