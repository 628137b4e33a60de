"""The file-drop connector kind: a watched folder in, micro-batched files with manifests out."""

from __future__ import annotations

from polestar.connectors.contract import ConnectorKind
from polestar.connectors.file.config import FileInboundConfig, FileOutboundConfig
from polestar.connectors.file.inbound import FileInbound, FileOutcome
from polestar.connectors.file.outbound import FileOutbound

KIND = ConnectorKind(
    name="file",
    inbound_config=FileInboundConfig,
    outbound_config=FileOutboundConfig,
    inbound=FileInbound,
    outbound=FileOutbound,
)

__all__ = ["KIND", "FileInbound", "FileInboundConfig", "FileOutbound", "FileOutboundConfig", "FileOutcome"]
