"""Every error Polestar raises on purpose, in one tree.

::

    PolestarError
    ├── ConfigError                 a configuration file or value is invalid (names each path)
    ├── ModelError                  a value does not fit the canonical POLE model
    │   └── SchemaVersionError      an event names a schema version this hub cannot read
    └── BusError                    the event bus
        ├── PublishRefused          the message was NOT accepted (too big, bad subject, not an envelope)
        ├── BusUnavailable          the broker cannot be reached now: reconnect and try again
        ├── BusClosed               the engine was stopped: do not retry on this instance
        ├── RequestTimeout          a request got no reply within its timeout
        ├── NoResponders            a request found nobody listening on its subject
        └── DeadLetterNotFound      an operator named a dead letter that does not exist

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
