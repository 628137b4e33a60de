"""Hot reload of ``devices/*.yaml``, as connectors, mappings and routes are hot reloaded.

The integration folder is watched (``watchfiles``) for changes to YAML files
under ``devices/``; a burst of changes is debounced, and the reload runs only
if the files' digest differs from the one last tried. The digest is also
checked every ``check_every`` seconds, so a change the OS did not report is not
missed. What a reload does with the files (apply them, or refuse them and keep
the running configuration) is the caller's ``reload``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from watchfiles import Change, awatch

from polestar.config.fingerprint import files_fingerprint
from polestar.devices.config import DEVICES_FOLDER

log = logging.getLogger(__name__)

WATCHED_SUFFIXES = (".yaml", ".yml")


def device_files(integration_dir: Path) -> list[Path]:
    """The gateway's YAML files in ``integration_dir/devices``, sorted."""
    folder = Path(integration_dir) / DEVICES_FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in WATCHED_SUFFIXES and p.is_file())


def device_fingerprint(integration_dir: Path) -> str:
    """A digest of the gateway files' names and contents: equal digests, equal configurations."""
    return files_fingerprint((path.name, path) for path in device_files(integration_dir))


class DeviceConfigWatcher:
    """Calls ``reload`` after each change to the gateway's files, until stopped.

    Args:
        integration_dir: the integration folder (its ``devices/`` need not exist yet).
        reload: loads and applies the files; it reports a refused change itself.
        tried: the digest of the files already loaded (``device_fingerprint``).
        debounce: seconds of quiet that end a burst of changes.
        force_polling: poll instead of using OS notifications (network file systems, containers).
        check_every: seconds between digest checks when nothing was reported.
    """

    def __init__(
        self,
        integration_dir: Path,
        reload: Callable[[], Awaitable[object]],
        *,
        tried: str,
        debounce: float = 0.5,
        force_polling: bool | None = None,
        check_every: float = 2.0,
    ) -> None:
        self.integration_dir = Path(integration_dir)
        self.reload = reload
        self.tried = tried
        self.debounce = debounce
        self.force_polling = force_polling
        self.check_every = check_every
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def _is_device_file(self, change: Change, path: str) -> bool:
        found = Path(path)
        return found.suffix in WATCHED_SUFFIXES and found.parent.name == DEVICES_FOLDER

    async def _watch(self) -> None:
        async for _ in awatch(
            self.integration_dir,
            watch_filter=self._is_device_file,
            debounce=int(self.debounce * 1000),
            step=50,
            stop_event=self._stop,
            force_polling=self.force_polling,
            poll_delay_ms=300,
            rust_timeout=int(self.check_every * 1000),
            yield_on_timeout=True,
            recursive=True,
        ):
            current = device_fingerprint(self.integration_dir)
            if current != self.tried:
                self.tried = current
                try:
                    await self.reload()
                except Exception:
                    # Watching goes on: the next change to the files is another chance.
                    log.exception("device gateway config could not be reloaded")

    def start(self) -> None:
        """Start watching in the background."""
        self._stop.clear()
        self._task = asyncio.create_task(self._watch(), name="polestar-devices-config-watcher")

    async def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            await task
