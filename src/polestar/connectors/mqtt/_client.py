"""The aiomqtt import, guarded: the ``mqtt`` connector needs the ``mqtt`` extra."""

from __future__ import annotations

try:
    import aiomqtt
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the mqtt connector needs aiomqtt: install polestar[mqtt] (pip install 'polestar[mqtt]')"
    ) from exc

__all__ = ["aiomqtt"]
