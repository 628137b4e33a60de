"""The data warehouse simulator: a folder watcher that loads micro-batch files against their manifests.

A batch is a data file plus ``<file>.manifest.json`` (the hub's file outbound
writes both)::

    {"file": "batch-…-000001.csv", "format": "csv", "records": 250, "bytes": 81234,
     "sha256": "…", "event_ids": […], "created_at": "…", "connector": "warehouse"}

Each manifest found is checked: the data file is there, its size and SHA-256
match, and it holds the number of records stated (CSV rows after the header,
JSON Lines lines, a JSON array's items). A good batch moves to ``loaded/``,
a bad one to ``rejected/`` beside ``<file>.reason.json``, and either way it
is recorded (``GET /batches``); the records of loaded batches are queryable
as the warehouse's tables would be (``GET /records?batch=``). A data file
whose manifest has not arrived yet is left alone: the manifest is written last.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException

from polestar.sims.harness import SimControls, install_controls

MANIFEST_SUFFIX = ".manifest.json"


def count_records(data: bytes, fmt: str) -> int:
    """Records in a batch file of format ``fmt`` (csv, jsonl or json)."""
    text = data.decode("utf-8")
    if fmt == "csv":
        return max(0, sum(1 for _ in csv.reader(io.StringIO(text))) - 1)
    if fmt == "jsonl":
        return sum(1 for line in text.splitlines() if line.strip())
    if fmt == "json":
        value = json.loads(text)
        return len(value) if isinstance(value, list) else 1
    raise ValueError(f"format {fmt!r} is not one the warehouse loads (csv, jsonl, json)")


def read_records(data: bytes, fmt: str) -> list[Any]:
    """The records of a good batch file (CSV rows as column-to-text objects)."""
    text = data.decode("utf-8")
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    if fmt == "jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    value = json.loads(text)
    return value if isinstance(value, list) else [value]


def check_batch(data: bytes, manifest: dict[str, Any]) -> list[str]:
    """What is wrong with a batch against its manifest (empty when it is good)."""
    problems = []
    if manifest.get("bytes") is not None and manifest["bytes"] != len(data):
        problems.append(f"bytes: manifest says {manifest['bytes']}, file has {len(data)}")
    digest = hashlib.sha256(data).hexdigest()
    if manifest.get("sha256") != digest:
        problems.append(f"sha256: manifest says {manifest.get('sha256')}, file has {digest}")
    try:
        count = count_records(data, str(manifest.get("format", "")))
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"records: cannot be counted: {exc}")
    else:
        if manifest.get("records") != count:
            problems.append(f"records: manifest says {manifest.get('records')}, file has {count}")
    return problems


class WarehouseSink:
    """Watches ``folder`` for manifests and loads or rejects each batch once."""

    def __init__(self, folder: Path, *, poll_interval: float = 0.25) -> None:
        self.folder = folder
        self.poll_interval = poll_interval
        self.batches: list[dict[str, Any]] = []
        self.records: list[dict[str, Any]] = []
        """Every record loaded, as ``{"batch": file, "record": ...}``, oldest first."""
        self._task: asyncio.Task[None] | None = None

    def scan(self) -> list[dict[str, Any]]:
        """Load every batch whose manifest is present; return what was recorded this time."""
        self.folder.mkdir(parents=True, exist_ok=True)
        recorded = [self._load(path) for path in sorted(self.folder.glob(f"*{MANIFEST_SUFFIX}"))]
        self.batches.extend(recorded)
        return recorded

    def _load(self, manifest_path: Path) -> dict[str, Any]:
        name = manifest_path.name.removesuffix(MANIFEST_SUFFIX)
        data_path = self.folder / name
        problems: list[str] = []
        manifest: dict[str, Any] = {}
        try:
            manifest = json.loads(manifest_path.read_bytes())
        except ValueError as exc:
            problems.append(f"manifest is not JSON: {exc}")
        if not isinstance(manifest, dict) or (not manifest and not problems):
            problems.append("manifest is not a JSON object describing the batch")
            manifest = {}
        if not data_path.exists():
            problems.append("data file is missing")
        elif manifest:
            if manifest.get("file") not in {None, name}:
                problems.append(f"file: manifest names {manifest.get('file')!r}")
            problems += check_batch(data_path.read_bytes(), manifest)
        verdict = "rejected" if problems else "loaded"
        if not problems:
            data = data_path.read_bytes()
            self.records += [{"batch": name, "record": r} for r in read_records(data, manifest["format"])]
        target = self.folder / verdict
        target.mkdir(exist_ok=True)
        if data_path.exists():
            data_path.replace(target / name)
        manifest_path.replace(target / manifest_path.name)
        if problems:
            (target / f"{name}.reason.json").write_text(json.dumps({"problems": problems}, indent=2))
        return {
            "file": name,
            "status": verdict,
            "records": manifest.get("records"),
            "event_ids": manifest.get("event_ids", []),
            "connector": manifest.get("connector"),
            "problems": problems,
            "received_at": datetime.now(UTC).isoformat(),
        }

    async def start(self) -> None:
        """Watch the folder (polling) until ``stop``."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="warehouse-watch")

    async def stop(self) -> None:
        """Stop watching."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _watch(self) -> None:
        while True:
            await asyncio.to_thread(self.scan)
            await asyncio.sleep(self.poll_interval)


def create_app(folder: Path, *, controls: SimControls | None = None, poll_interval: float = 0.25) -> FastAPI:
    """The warehouse simulator: watches ``folder`` while the app runs."""
    controls = controls or SimControls("warehouse")
    sink = WarehouseSink(folder, poll_interval=poll_interval)
    app = FastAPI(title="Data warehouse simulator", description=__doc__)
    install_controls(app, controls)
    app.state.warehouse = sink
    app.router.add_event_handler("startup", sink.start)
    app.router.add_event_handler("shutdown", sink.stop)

    @app.get("/batches")
    async def batches() -> dict[str, Any]:
        return {"batches": sink.batches}

    @app.get("/batches/{name}")
    async def batch(name: str) -> dict[str, Any]:
        for entry in sink.batches:
            if entry["file"] == name:
                return entry
        raise HTTPException(404, f"no batch {name}")

    @app.get("/records")
    async def records(batch: str | None = None) -> dict[str, Any]:
        return {"records": [r for r in sink.records if batch is None or r["batch"] == batch]}

    @app.post("/_sim/scan")
    async def scan() -> dict[str, Any]:
        return {"recorded": await asyncio.to_thread(sink.scan)}

    return app
