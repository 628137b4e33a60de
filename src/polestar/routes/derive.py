"""Ids derived from the message that caused them, so a redelivery produces the same ids.

The bus drops a repeated idempotency key and systems drop a repeated
idempotency key; both only help if a retried message makes the same events
it made the first time.
"""

from __future__ import annotations

import uuid
from typing import Any

from polestar.model.envelope import Envelope

_NAMESPACE = uuid.UUID("6d1c5b8e-3f0a-5c7e-9a55-0b6f3c2e7a91")


def derived_id(*parts: str | int) -> str:
    """A UUID (version 5) that depends only on ``parts``."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(part) for part in parts)))


def route_source(route: str) -> str:
    """The envelope ``source`` of events a route makes."""
    return f"/routes/{route}"


def revalidated(envelope: Envelope, **changes: Any) -> Envelope:
    """``envelope`` with ``changes``, validated again (unlike ``model_copy``)."""
    return Envelope.model_validate({**envelope.model_dump(), **changes})
