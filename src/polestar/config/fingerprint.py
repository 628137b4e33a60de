"""A digest of configuration files, so a watcher can tell a real change from a touch."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def files_fingerprint(files: Iterable[tuple[str, Path]]) -> str:
    """A digest of each ``(name, path)``'s name and content: equal digests, equal files.

    A file that vanishes while it is read counts as unreadable rather than failing:
    the watcher's next look sees it gone.
    """
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(f"{name}\0".encode())
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            digest.update(f"unreadable: {exc}".encode())
        digest.update(b"\0")
    return digest.hexdigest()
