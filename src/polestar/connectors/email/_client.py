"""The aiosmtplib import, guarded: the ``email`` connector needs the ``email`` extra."""

from __future__ import annotations

try:
    import aiosmtplib
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the email connector needs aiosmtplib: install polestar[email] (pip install 'polestar[email]')"
    ) from exc

__all__ = ["aiosmtplib"]
