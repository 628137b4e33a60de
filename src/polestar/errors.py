"""Every error Polestar raises on purpose, in one tree.

::

    PolestarError
    ├── ConfigError                 a configuration file or value is invalid (names each path)
    ├── ModelError                  a value does not fit the canonical POLE model
    │   └── SchemaVersionError      an event names a schema version this hub cannot read
    ├── BusError                    the event bus
    │   ├── PublishRefused          the message was NOT accepted (too big, bad subject, not an envelope)
    │   ├── BusUnavailable          the broker cannot be reached now: reconnect and try again
    │   ├── BusClosed               the engine was stopped: do not retry on this instance
    │   ├── RequestTimeout          a request got no reply within its timeout
    │   ├── NoResponders            a request found nobody listening on its subject
    │   └── DeadLetterNotFound      an operator named a dead letter that does not exist
    └── IntegrationError            connectors, mappings and routes
        ├── InboundRefused          a system sent something the hub will not accept
        ├── MappingFailed           one record could not be mapped (names the field and the record)
        ├── DeliveryFailed          delivery failed for now: retry (honouring retry_after)
        │   └── CircuitOpen         the system's circuit breaker is open: fail fast
        └── DeliveryRefused         the system refused for good: dead-letter

``PublishRefused`` guarantees nothing was written; every other ``BusError`` on
publish leaves the message's fate unknown, so callers retry with the same
idempotency key and the bus removes the duplicate.
"""

from __future__ import annotations


class PolestarError(Exception):
    """Base of every error Polestar raises on purpose."""


class ConfigError(PolestarError):
    """A configuration is invalid; ``problems`` lists each as ``(location, reason)``."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {where}: {why}" for where, why in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class ModelError(PolestarError):
    """A value does not fit the canonical POLE model."""


class SchemaVersionError(ModelError):
    """An event names a schema (or version of one) this hub cannot read."""


class BusError(PolestarError):
    """Something went wrong on the event bus."""


class PublishRefused(BusError):  # noqa: N818 - reads as what happened, like httpx's names
    """The bus refused a message before storing anything; retrying will not help."""


class BusUnavailable(BusError):  # noqa: N818 - a state, named as operators say it
    """The broker cannot be reached now; reconnect and retry with the same idempotency key."""


class BusClosed(BusError):  # noqa: N818 - a state, named as operators say it
    """The engine has been stopped; this instance will not accept more work."""


class RequestTimeout(BusError):  # noqa: N818 - mirrors asyncio.TimeoutError's naming
    """A request received no reply within its timeout."""


class NoResponders(BusError):  # noqa: N818 - the NATS term operators know
    """A request was sent to a subject with nobody listening."""


class DeadLetterNotFound(BusError):  # noqa: N818 - reads as the operator's answer
    """No dead letter has the id an operator gave."""


class IntegrationError(PolestarError):
    """Connectors, mappings and routes: moving data between a system and the hub."""


class InboundRefused(IntegrationError):  # noqa: N818 - what the hub did, as the system sees it
    """A system sent something the hub will not accept (hostile XML, too large, undecodable).

    ``where`` names the place (a file and line, a request, a message id).
    """

    def __init__(self, reason: str, *, where: str | None = None) -> None:
        self.reason = reason
        self.where = where
        super().__init__(f"{where}: {reason}" if where else reason)


class MappingFailed(IntegrationError):  # noqa: N818 - reads as the outcome for that record
    """One record could not be mapped; ``field`` names what was wrong, ``where`` the record."""

    def __init__(self, reason: str, *, field: str | None = None, where: str | None = None) -> None:
        self.reason = reason
        self.field = field
        self.where = where
        prefix = ": ".join(p for p in (where, field) if p)
        super().__init__(f"{prefix}: {reason}" if prefix else reason)


class DeliveryFailed(IntegrationError):  # noqa: N818 - transient: the route retries
    """Delivery failed for now (down, timeout, 5xx, 429); retry, after ``retry_after`` if given."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(reason)


class DeliveryRefused(IntegrationError):  # noqa: N818 - permanent: the route dead-letters
    """The system refused the message for good (4xx, a schema violation); retrying cannot help."""


class CircuitOpen(DeliveryFailed):
    """A circuit breaker is open: the system failed repeatedly and is not being called now."""
