"""The nats-py import, guarded: the ``nats`` connector needs the ``nats`` extra."""

from __future__ import annotations

try:
    import nats
    import nats.errors
    import nats.js.api
    import nats.js.errors
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the nats connector needs nats-py: install polestar[nats] (pip install 'polestar[nats]')"
    ) from exc

__all__ = ["Msg", "NatsClient", "nats"]
