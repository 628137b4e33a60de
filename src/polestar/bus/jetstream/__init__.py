"""The cluster-profile bus engine: NATS JetStream streams and durable pull consumers.

Needs the ``nats`` extra (``pip install 'polestar[nats]'``). What the engine creates
on the NATS server, and how a force should run that server, is described in
``docs/runbooks/jetstream.md``.
"""

from __future__ import annotations

try:
    import nats  # noqa: F401 - imported only to give a clear message when the extra is missing
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "polestar.bus.jetstream needs nats-py: install polestar[nats] (pip install 'polestar[nats]')"
    ) from exc

from polestar.bus.jetstream.engine import JetStreamEngine

__all__ = ["JetStreamEngine"]
