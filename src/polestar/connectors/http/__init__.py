"""The HTTP connector kind: systems post their records to the hub; the hub calls systems' REST APIs."""

from __future__ import annotations

from polestar.connectors.contract import ConnectorKind
from polestar.connectors.http.config import (
    BasicAuth,
    BearerAuth,
    HttpInboundConfig,
    HttpOutboundConfig,
    SecretRef,
)
from polestar.connectors.http.inbound import HttpInbound, create_ingest_router
from polestar.connectors.http.outbound import HttpOutbound, parse_retry_after

KIND = ConnectorKind(
    name="http",
    inbound_config=HttpInboundConfig,
    outbound_config=HttpOutboundConfig,
    inbound=HttpInbound,
    outbound=HttpOutbound,
)

__all__ = [
    "KIND",
    "BasicAuth",
    "BearerAuth",
    "HttpInbound",
    "HttpInboundConfig",
    "HttpOutbound",
    "HttpOutboundConfig",
    "SecretRef",
    "create_ingest_router",
    "parse_retry_after",
]
