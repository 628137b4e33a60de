"""File-drop inbound: take files from a folder atomically, ingest them, archive them.

::

    folder/custody.csv ──rename──► processing/<instance>/custody.csv ──ingest──► bus
                                             │
                 errors/custody.csv-<sha>/   ◄── one reason file per rejected record
                 archive/20261124T020301Z-custody.csv  ◄── the file, once all is durable

Crash safety: a file is archived only after its events are on the bus and its
reason files are fsynced. A hub that dies mid-file finds it in its
``processing/<instance>/`` folder on start and ingests it again; the mapping's
stable event ids make the bus drop what was already published, and the
reason files are rewritten under the same names.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import json
import logging
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from polestar.connectors.codecs import SUFFIX_CONTENT_TYPES
from polestar.connectors.contract import Ingest, IngestResult, RawMessage
from polestar.connectors.file.config import FileInboundConfig
from polestar.connectors.ingest import rejection_json
from polestar.errors import InboundRefused
from polestar.model.timeutil import utcnow

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of one dropped file."""

    name: str
    archived_to: Path | None
    errors_folder: Path | None
    result: IngestResult | None
    refused: str | None = None


class FileInbound:
    """The ``InboundConnector`` for a drop folder. Constructing it touches no files."""

    def __init__(self, name: str, config: FileInboundConfig) -> None:
        self.name = name
        self.config = config
        self._ingest: Ingest | None = None
        self._task: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._lock = asyncio.Lock()

    @property
    def processing(self) -> Path:
        """This hub's own processing folder."""
        return self.config.processing / (self.config.instance or _host())

    async def start(self, ingest: Ingest, *, background: bool = True) -> None:
        """Create the folders and begin: resume files left in processing/, then watch the drop folder.

        With ``background=False`` nothing runs by itself: the caller drives
        ``process_pending`` (a one-off load, a test).
        """
        self._ingest = ingest
        for folder in (self.config.folder, self.processing, self.config.archive, self.config.errors):
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        self._stopping.clear()
        if not background:
            return
        self._task = asyncio.create_task(self._run(), name=f"file-inbound:{self.name}")
        if self.config.watch:
            self._watcher = asyncio.create_task(self._watch(), name=f"file-watch:{self.name}")

    async def stop(self) -> None:
        """Stop taking files; a file being ingested finishes first."""
        self._stopping.set()
        self._wake.set()
        for task in (self._watcher, self._task):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._watcher = None

    async def process_pending(self) -> list[FileOutcome]:
        """Ingest what is in processing/ (left by a crash), then every file waiting in the folder."""
        if self._ingest is None:
            raise RuntimeError(f"file connector {self.name!r} is not started")
        async with self._lock:
            outcomes = [await self._process(path) for path in sorted(self._files(self.processing))]
            for path in sorted(self._files(self.config.folder)):
                if self._stopping.is_set():
                    break
                taken = self._take(path)
                if taken is not None:
                    outcomes.append(await self._process(taken))
            return outcomes

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.process_pending()
            except Exception:  # a bus outage must not stop the watcher; the file stays in processing/
                log.exception("file connector %s: ingest failed; will try again", self.name)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)

    async def _watch(self) -> None:
        try:
            async for _ in watchfiles.awatch(
                self.config.folder, stop_event=self._stopping, recursive=False, debounce=200, step=50
            ):
                self._wake.set()
        except Exception:  # noqa: BLE001 - a watch that cannot run leaves polling in charge
            log.warning("file connector %s: cannot watch %s; polling", self.name, self.config.folder)

    def _files(self, folder: Path) -> list[Path]:
        now = time.time()
        found = []
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(folder):
                if not entry.is_file(follow_symlinks=False):
                    continue
                if not fnmatch.fnmatchcase(entry.name, self.config.pattern):
                    continue
                if any(fnmatch.fnmatchcase(entry.name, glob) for glob in self.config.ignore):
                    continue
                if self.config.min_age and now - entry.stat().st_mtime < self.config.min_age:
                    continue
                found.append(Path(entry.path))
        return found

    def _take(self, path: Path) -> Path | None:
        target = self.processing / path.name
        if target.exists():
            return None  # an earlier file of that name is still in hand; take this one next time
        try:
            path.rename(target)
        except FileNotFoundError:
            return None  # another hub took it first
        return target

    async def _process(self, path: Path) -> FileOutcome:
        assert self._ingest is not None
        size = (await asyncio.to_thread(path.stat)).st_size
        if size > self.config.max_file_bytes:
            reason = f"the file is {size} bytes; this connector takes at most {self.config.max_file_bytes}"
            return self._refuse(path, reason)
        body = await asyncio.to_thread(path.read_bytes)
        raw = RawMessage(
            connector=self.name,
            body=body,
            content_type=SUFFIX_CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"),
            reference=path.name,
            headers={"file-size": str(size)},
        )
        try:
            result = await self._ingest(raw)
        except InboundRefused as exc:
            return self._refuse(path, str(exc))
        errors = await asyncio.to_thread(self._write_rejections, path.name, body, result)
        archived = self._archive(path)
        log.info(
            "file connector %s: %s: %d event(s), %d rejected",
            self.name,
            path.name,
            len(result.event_ids),
            len(result.rejected),
        )
        return FileOutcome(path.name, archived, errors, result)

    def _write_rejections(self, name: str, body: bytes, result: IngestResult) -> Path | None:
        if not result.rejected:
            return None
        folder = self.config.errors / f"{name}-{hashlib.sha256(body).hexdigest()[:12]}"
        folder.mkdir(parents=True, exist_ok=True)
        for number, rejection in enumerate(result.rejected, start=1):
            place = _UNSAFE.sub("_", rejection.where.replace(name, "", 1)).strip("_.") or str(number)
            _write_durably(folder / f"{number:05d}-{place}.reason.json", rejection_json(rejection).encode())
        summary = {
            "file": name,
            "events": len(result.event_ids),
            "rejected": len(result.rejected),
            "written_at": utcnow().isoformat(),
        }
        _write_durably(folder / "summary.json", json.dumps(summary, indent=2).encode())
        _fsync_folder(folder)
        return folder

    def _archive(self, path: Path) -> Path:
        target = self.config.archive / f"{utcnow():%Y%m%dT%H%M%S%fZ}-{path.name}"
        path.rename(target)
        _fsync_folder(self.config.archive)
        return target

    def _refuse(self, path: Path, reason: str) -> FileOutcome:
        stamp = f"{utcnow():%Y%m%dT%H%M%S%fZ}"
        target = self.config.errors / f"{stamp}-{path.name}"
        _write_durably(self.config.errors / f"{stamp}-{path.name}.reason.txt", f"{reason}\n".encode())
        path.rename(target)
        _fsync_folder(self.config.errors)
        log.warning("file connector %s: %s refused: %s", self.name, path.name, reason)
        return FileOutcome(path.name, None, target, None, refused=reason)


def _host() -> str:
    return _UNSAFE.sub("-", socket.gethostname())[:64] or "hub"


def _write_durably(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.part")
    with temp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temp.replace(path)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
