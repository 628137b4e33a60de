"""File outbound: micro-batched files, each with a manifest, acknowledged only once durable.

``deliver(message)`` adds the message to the open batch and returns when that
batch has been written: the data file (written under a temporary name,
fsynced, renamed), then ``<file>.manifest.json`` (the same way), then the
folder fsynced. So a route awaiting ``deliver`` acks its bus delivery only
after the event is durably in a file, and a crash before that leaves the
delivery unacknowledged for the bus to redeliver.

For batches to fill, a route must have several deliveries in flight at once
(fetch up to ``batch_max_records`` and ``asyncio.gather`` their ``deliver``);
one at a time, each message waits ``batch_max_seconds``.

Manifest::

    {"file": "batch-20261124T020301123456Z-000001.jsonl", "format": "jsonl",
     "records": 250, "bytes": 81234, "sha256": "…", "event_ids": […],
     "created_at": "2026-11-24T02:03:01.123456+00:00", "connector": "warehouse"}
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polestar.connectors.codecs import (
    CONTENT_TYPES,
    RecordFormat,
    decode,
)
from polestar.connectors.contract import DeliveryReceipt, OutboundMessage
from polestar.connectors.encoding import encode_records
from polestar.connectors.file.config import FileOutboundConfig
from polestar.errors import DeliveryFailed, DeliveryRefused, InboundRefused
from polestar.model.timeutil import utcnow

_SUFFIXES = {
    RecordFormat.JSON: "json",
    RecordFormat.JSONL: "jsonl",
    RecordFormat.CSV: "csv",
    RecordFormat.XML: "xml",
}


@dataclass(slots=True)
class _Batch:
    records: list[Any] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    waiters: list[asyncio.Future[DeliveryReceipt]] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None


class FileOutbound:
    """The ``OutboundConnector`` writing micro-batched files. Constructing it touches no files."""

    def __init__(self, name: str, config: FileOutboundConfig) -> None:
        self.name = name
        self.config = config
        self._batch = _Batch()
        self._sequence = 0
        self._writing = asyncio.Lock()
        self._flushes: set[asyncio.Task[None]] = set()
        self._started = False

    async def start(self) -> None:
        """Create the output folder."""
        await asyncio.to_thread(self.config.folder.mkdir, parents=True, exist_ok=True)
        self._started = True

    async def stop(self) -> None:
        """Write the open batch and wait for every batch in hand."""
        await self.flush()
        if self._flushes:
            await asyncio.gather(*self._flushes, return_exceptions=True)
        self._started = False

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Add ``message`` to the open batch; return once that batch is durable on disk.

        Raises ``DeliveryRefused`` when the body cannot be read in the
        configured format, ``DeliveryFailed`` when the batch could not be written.
        """
        if not self._started:
            raise DeliveryFailed(f"file connector {self.name!r} is not started")
        try:
            records = decode(
                message.body,
                self.config.format,
                where=f"event {message.envelope.id}",
                options=self.config.codec,
            )
        except InboundRefused as exc:
            raise DeliveryRefused(f"the body is not {self.config.format.value}: {exc}") from None
        if records.rejected:
            raise DeliveryRefused(f"the body is not {self.config.format.value}: {records.rejected[0].reason}")
        waiter: asyncio.Future[DeliveryReceipt] = asyncio.get_running_loop().create_future()
        batch = self._batch
        batch.records.extend(item.record for item in records.records)
        batch.event_ids.append(message.envelope.id)
        batch.waiters.append(waiter)
        if len(batch.records) >= self.config.batch_max_records:
            self._close_batch()
        elif batch.timer is None:
            batch.timer = asyncio.get_running_loop().call_later(
                self.config.batch_max_seconds, self._close_batch
            )
        return await asyncio.shield(waiter)

    async def flush(self) -> None:
        """Write the open batch now (if it holds anything) and wait until it is durable."""
        task = self._close_batch()
        if task is not None:
            await task

    def _close_batch(self) -> asyncio.Task[None] | None:
        batch, self._batch = self._batch, _Batch()
        if batch.timer is not None:
            batch.timer.cancel()
        if not batch.waiters:
            return None
        task = asyncio.get_running_loop().create_task(self._write(batch))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)
        return task

    async def _write(self, batch: _Batch) -> None:
        async with self._writing:  # batches reach the folder in the order they closed
            self._sequence += 1
            name = f"{self.config.file_prefix}-{utcnow():%Y%m%dT%H%M%S%fZ}-{self._sequence:06d}"
            name = f"{name}.{_SUFFIXES[self.config.format]}"
            try:
                body = encode_records(batch.records, self.config.format, self.config.codec)
                manifest = await asyncio.to_thread(self._write_files, name, body, batch)
            except (OSError, ValueError) as exc:
                error: Exception = (
                    DeliveryRefused(f"the batch could not be encoded: {exc}")
                    if isinstance(exc, ValueError)
                    else DeliveryFailed(f"the batch file could not be written: {exc}")
                )
                for waiter in batch.waiters:
                    if not waiter.done():
                        waiter.set_exception(error)
                return
        receipt = DeliveryReceipt(reference=name, response=manifest)
        for waiter in batch.waiters:
            if not waiter.done():
                waiter.set_result(receipt)

    def _write_files(self, name: str, body: bytes, batch: _Batch) -> dict[str, Any]:
        folder = self.config.folder
        manifest = {
            "file": name,
            "connector": self.name,
            "format": self.config.format.value,
            "content_type": CONTENT_TYPES[self.config.format],
            "records": len(batch.records),
            "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "event_ids": batch.event_ids,
            "created_at": utcnow().isoformat(),
        }
        _write_durably(folder / name, body)
        _write_durably(folder / f"{name}.manifest.json", json.dumps(manifest, indent=2).encode())
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        return manifest


def _write_durably(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.part")
    try:
        with temp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
