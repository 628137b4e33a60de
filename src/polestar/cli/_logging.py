"""Logging for a running hub, as ``log`` in ``polestar.yaml`` asks: readable lines or JSON lines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from polestar.config import LogConfig, LogFormat


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC), level, logger, message, and the error if any."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def logging_config(log: LogConfig) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document: everything (uvicorn included) to stderr via the root."""
    formatter: dict[str, Any] = (
        {"()": f"{__name__}.JsonFormatter"}
        if log.format is LogFormat.JSON
        else {"format": "%(asctime)s %(levelname)-8s %(name)s: %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            # uvicorn's own loggers carry handlers of their own by default; route them to ours.
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
        "root": {"handlers": ["stderr"], "level": log.level.value},
    }
