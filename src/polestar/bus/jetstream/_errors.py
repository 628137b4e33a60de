"""Turning nats-py's exceptions into Polestar's error tree at the engine boundary.

nats-py raises many types for one operator-visible condition ("the broker is
not reachable now"); callers of the bus see ``BusUnavailable`` for all of them,
with the original chained as ``__cause__``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import nats.errors
import nats.js.errors

from polestar.errors import BusError, BusUnavailable, PublishRefused

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionDrainingError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.NoServersError,
    nats.errors.TimeoutError,
    nats.js.errors.NoStreamResponseError,
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.ServerError,
    TimeoutError,
    OSError,
)


@contextlib.contextmanager
def translated(action: str) -> Iterator[None]:
    """Re-raise nats-py errors met while doing ``action`` as Polestar bus errors."""
    try:
        yield
    except BusError:
        raise
    except nats.errors.MaxPayloadError as exc:
        raise PublishRefused(f"{action}: larger than the server's max_payload") from exc
    except _UNAVAILABLE as exc:
        raise BusUnavailable(f"{action}: NATS unavailable ({type(exc).__name__}: {exc})") from exc
    except nats.errors.Error as exc:
        raise BusError(f"{action}: {type(exc).__name__}: {exc}") from exc
