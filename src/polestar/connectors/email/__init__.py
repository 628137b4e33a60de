"""The ``email`` connector kind: outbound only, messages rendered from templates and sent by SMTP.

Needs the ``email`` extra (``pip install 'polestar[email]'``). This module
imports only the configuration; the client is imported when a connector is
built, so the kind is listed even where the extra is missing.
"""

from __future__ import annotations

from typing import Any

from polestar.connectors.contract import ConnectorKind, OutboundConnector
from polestar.connectors.email.config import EmailOutboundConfig

__all__ = ["KIND", "EmailOutboundConfig"]


def _outbound(name: str, config: Any) -> OutboundConnector:
    from polestar.connectors.email.outbound import EmailOutbound  # noqa: PLC0415 - needs the extra

    return EmailOutbound(name, config)


KIND = ConnectorKind(
    name="email",
    inbound_config=None,
    outbound_config=EmailOutboundConfig,
    outbound=_outbound,
    extra="email",
)
"""The kind as registered in the connector registry."""
