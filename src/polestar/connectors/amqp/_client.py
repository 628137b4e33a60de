"""The aio-pika import, guarded: the ``amqp`` connector needs the ``amqp`` extra."""

from __future__ import annotations

try:
    import aio_pika
    import aio_pika.abc
    import aio_pika.exceptions
    import aiormq.exceptions
    from yarl import URL
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the amqp connector needs aio-pika: install polestar[amqp] (pip install 'polestar[amqp]')"
    ) from exc

__all__ = ["URL", "aio_pika", "aiormq"]
