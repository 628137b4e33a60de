"""Hot reload: watch the integration config folder and reload when a YAML file changes.

Changes are debounced (an editor's save is often several writes), then
``IntegrationRuntime.reload`` runs if the files' digest differs from the one
last loaded. The digest is also checked every ``check_every`` seconds, so a
change the OS did not report (or made before the watch began) is not missed.
An invalid change is logged with every problem located
(``file:line:col path: reason``) and the running version carries on; fixing
the file triggers the next reload.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from watchfiles import Change, awatch

from polestar.routes.loader import config_fingerprint
from polestar.routes.reload import ReloadResult
from polestar.routes.runtime import IntegrationRuntime

log = logging.getLogger(__name__)

WATCHED_SUFFIXES = (".yaml", ".yml")


def _is_config_file(change: Change, path: str) -> bool:
    return Path(path).suffix in WATCHED_SUFFIXES


async def watch_config(
    runtime: IntegrationRuntime,
    stop_event: asyncio.Event,
    *,
    debounce: float = 0.5,
    force_polling: bool | None = None,
    poll_delay: float = 0.3,
    check_every: float = 2.0,
) -> None:
    """Reload ``runtime`` after each burst of changes to its folder, until ``stop_event`` is set.

    Args:
        runtime: the running runtime.
        stop_event: set it to stop watching.
        debounce: seconds of quiet that end a burst of changes.
        force_polling: poll instead of using OS notifications (network file systems, containers).
        poll_delay: seconds between polls when polling.
        check_every: seconds between digest checks when nothing was reported.
    """
    tried = runtime.fingerprint
    async for changes in awatch(
        runtime.config_dir,
        watch_filter=_is_config_file,
        debounce=int(debounce * 1000),
        step=50,
        stop_event=stop_event,
        force_polling=force_polling,
        poll_delay_ms=int(poll_delay * 1000),
        rust_timeout=int(check_every * 1000),
        yield_on_timeout=True,
        recursive=True,
    ):
        current = config_fingerprint(runtime.config_dir)
        if current == tried:
            continue
        tried = current
        names = sorted({Path(path).name for _, path in changes}) or ["found on a periodic check"]
        log.info("integration config changed (%s): reloading", ", ".join(names))
        result: ReloadResult = await runtime.reload()
        if not result.applied:
            lines = "\n".join(f"  {p.where}: {p.reason}" for p in result.problems)
            log.error("integration config change refused; the running version carries on:\n%s", lines)


class ConfigWatcher:
    """``watch_config`` as a background task with ``start``/``stop``."""

    def __init__(
        self, runtime: IntegrationRuntime, *, debounce: float = 0.5, force_polling: bool | None = None
    ) -> None:
        self.runtime = runtime
        self.debounce = debounce
        self.force_polling = force_polling
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start watching in the background."""
        self._stop.clear()
        self._task = asyncio.create_task(
            watch_config(self.runtime, self._stop, debounce=self.debounce, force_polling=self.force_polling),
            name="integration config watcher",
        )

    async def stop(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
