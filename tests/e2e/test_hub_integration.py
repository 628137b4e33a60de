"""The hub wired end to end: a system posts its own CSV, a route sends it on as warehouse files."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path

import httpx
import yaml

from polestar.api import create_app
from polestar.config import HubConfig
from polestar.security.testing import allow_flows, auth_headers

EXAMPLES = Path(__file__).parents[2] / "examples" / "integration"


def _integration_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "integration"
    shutil.copytree(EXAMPLES / "mappings", folder / "mappings")
    (folder / "connectors").mkdir()
    (folder / "routes").mkdir()
    connectors = {
        "connectors": [
            {
                "name": "custody-api",
                "kind": "http",
                "description": "The custody system posts its extract rows",
                "format": "csv",
                "mapping": {"inbound": "custody-csv"},
                "inbound": {},
            },
            {
                "name": "warehouse-files",
                "kind": "file",
                "format": "csv",
                "mapping": {"outbound": "warehouse-custody-csv"},
                "outbound": {
                    "folder": str(tmp_path / "warehouse"),
                    "format": "csv",
                    "batch_max_records": 10,
                    "batch_max_seconds": 0.2,
                },
            },
        ]
    }
    routes = {
        "routes": [
            {
                "name": "custody-to-warehouse",
                "from": {"subjects": ["custody.>"], "max_attempts": 3},
                "steps": [{"step": "filter", "expr": "type == 'custody.episode.opened'"}],
                "to": [{"connector": "warehouse-files"}],
            }
        ]
    }
    (folder / "connectors" / "systems.yaml").write_text(yaml.safe_dump(connectors))
    (folder / "routes" / "custody.yaml").write_text(yaml.safe_dump(routes))
    allow_flows(folder, ["warehouse-files"])
    return folder


def _custody_csv() -> bytes:
    fixture = yaml.safe_load((EXAMPLES / "mappings" / "custody.test.yaml").read_text())["tests"][0]
    return fixture["raw"].encode()


async def _wait_for(predicate, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def _client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    headers = auth_headers(app.state.hub.config)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub", headers=headers)


async def test_a_custody_extract_posted_to_the_hub_reaches_the_warehouse_as_a_batch_file(
    tmp_path: Path,
) -> None:
    config = HubConfig(data_dir=tmp_path / "data", integration_dir=_integration_folder(tmp_path))
    app = create_app(config)
    async with app.router.lifespan_context(app), _client(app) as client:

        async def ready() -> httpx.Response | None:
            answer = await client.get("/ready")
            return answer if answer.status_code == 200 else None

        report = await _wait_for(ready)
        assert {c["name"]: c["status"] for c in report.json()["components"]}["integration"] == "ok"

        answer = await client.post(
            "/ingest/custody-api", content=_custody_csv(), headers={"content-type": "text/csv"}
        )
        assert answer.status_code == 202, answer.text

        async def manifests() -> list[Path]:
            return sorted((tmp_path / "warehouse").rglob("*.manifest.json"))

        manifest = json.loads((await _wait_for(manifests))[0].read_text())
        assert manifest["records"] == 1
        assert manifest["event_ids"]
        assert manifest["sha256"]

        async def counted_out() -> int:
            # Counted once the delivery (and its audit entry) is done, just after the file lands.
            route = (await client.get("/routes/custody-to-warehouse")).json()
            return int(route["counters"]["out"])

        assert await _wait_for(counted_out) >= 1


async def test_a_broken_integration_folder_keeps_the_hub_up_and_ready_names_the_problem(
    tmp_path: Path,
) -> None:
    folder = _integration_folder(tmp_path)
    (folder / "routes" / "custody.yaml").write_text(
        "routes:\n  - name: broken\n    from: {subjects: ['custody.>']}\n    to: [{connector: nowhere}]\n"
    )
    config = HubConfig(data_dir=tmp_path / "data", integration_dir=folder)
    app = create_app(config)
    async with app.router.lifespan_context(app), _client(app) as client:
        assert (await client.get("/health")).status_code == 200

        async def integration_report() -> dict[str, str] | None:
            reports = {c["name"]: c for c in (await client.get("/ready")).json()["components"]}
            report = reports["integration"]
            return report if report["status"] == "unavailable" else None

        report = await _wait_for(integration_report)
        assert "custody.yaml:4" in report["detail"]
        assert "nowhere" in report["detail"]
