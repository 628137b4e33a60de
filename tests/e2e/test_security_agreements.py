"""No agreement, no flow: outbound routes are checked against data-sharing agreements."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path

import httpx
import yaml

from polestar.api import create_app
from polestar.audit import AuditQuery, Operation, Outcome
from polestar.bus.config import SqliteBusConfig
from polestar.config import HubConfig
from polestar.security.testing import auth_headers

EXAMPLES = Path(__file__).parents[2] / "examples" / "integration"
FOOTWEAR_AGREEMENT = {
    "name": "footwear-custody",
    "partner": "National Footwear Database",
    "recipients": ["footwear-files"],
    "categories": ["custody"],
    "purposes": ["footwear comparison"],
    "clearance": "OFFICIAL-SENSITIVE [PERSONAL]",
    "minimise": {"keep": ["custody_record_number", "custody_suite"]},
}


def _file_output(name: str, folder: Path) -> dict:
    return {
        "name": name,
        "kind": "file",
        "format": "jsonl",
        "outbound": {
            "folder": str(folder),
            "format": "jsonl",
            "batch_max_records": 1,
            "batch_max_seconds": 0.1,
        },
    }


def _route(name: str, subjects: str, event_type: str, connector: str) -> dict:
    return {
        "name": name,
        "from": {"subjects": [subjects], "max_attempts": 2},
        "steps": [{"step": "filter", "expr": f"type == '{event_type}'"}],
        "to": [{"connector": connector}],
    }


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "integration"
    shutil.copytree(EXAMPLES / "mappings", folder / "mappings")
    for part in ("connectors", "routes", "agreements"):
        (folder / part).mkdir()
    connectors = [
        {
            "name": "custody-api",
            "kind": "http",
            "format": "csv",
            "mapping": {"inbound": "custody-csv"},
            "inbound": {},
        },
        _file_output("footwear-files", tmp_path / "footwear"),
        _file_output("intel-files", tmp_path / "intel"),
    ]
    routes = [
        _route("custody-to-footwear", "custody.>", "custody.episode.opened", "footwear-files"),
        _route("custody-to-intel", "custody.>", "custody.episode.opened", "intel-files"),
        _route("people-to-footwear", "person.>", "person.created", "footwear-files"),
    ]
    (folder / "connectors" / "systems.yaml").write_text(yaml.safe_dump({"connectors": connectors}))
    (folder / "routes" / "routes.yaml").write_text(yaml.safe_dump({"routes": routes}))
    (folder / "agreements" / "footwear.yaml").write_text(yaml.safe_dump({"agreements": [FOOTWEAR_AGREEMENT]}))
    return folder


async def _eventually(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def test_flows_go_only_where_an_agreement_allows_and_only_what_it_allows(tmp_path: Path) -> None:
    config = HubConfig(
        data_dir=tmp_path / "data", integration_dir=_folder(tmp_path), bus=SqliteBusConfig(poll_interval=0.02)
    )
    app = create_app(config)
    transport = httpx.ASGITransport(app=app)
    operator = auth_headers(config, roles=["operator", "system"], purpose="checking refused flows")
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://hub", headers=operator) as client,
    ):

        async def integration_ready() -> bool:
            report = (await client.get("/ready")).json()
            return {c["name"]: c["status"] for c in report["components"]}.get("integration") == "ok"

        await _eventually(integration_ready)
        extract = yaml.safe_load((EXAMPLES / "mappings" / "custody.test.yaml").read_text())["tests"][0]["raw"]
        answer = await client.post(
            "/ingest/custody-api", content=extract.encode(), headers={"content-type": "text/csv"}
        )
        assert answer.status_code == 202, answer.text

        async def footwear_files() -> list[Path]:
            return sorted((tmp_path / "footwear").rglob("*.jsonl"))

        (sent,) = await _eventually(footwear_files)

        async def refusals() -> dict[str, str] | None:
            listed = (await client.get("/bus/dead-letters")).json()["dead_letters"]
            found = {d["group"]: d["reason"] for d in listed}
            return found if len(found) >= 2 else None

        refused = await _eventually(refusals)
        decisions = await app.state.hub.audit.log.find(AuditQuery(operation=Operation.ACCESS_DECISION))

    # Minimised: only the two fields the agreement lists reached the footwear database.
    assert [json.loads(line) for line in sent.read_text().splitlines()] == [
        {"custody_record_number": "01CX/004512/26", "custody_suite": "Charing Cross"}
    ]
    # The intelligence feed has no agreement: the flow did not happen.
    assert not (tmp_path / "intel").exists() or not list((tmp_path / "intel").rglob("*.jsonl"))
    intel_reason = next(r for g, r in refused.items() if "intel" in g)
    assert "no data-sharing agreement covers recipient 'intel-files'" in intel_reason
    # The footwear database asked for people: its agreement covers custody only.
    people_reason = next(r for g, r in refused.items() if "people" in g)
    assert "does not cover category 'person' (covers custody)" in people_reason

    deliveries = [d for d in decisions if d.details.get("action") == "deliver"]
    allowed = [d for d in deliveries if d.outcome is Outcome.SUCCEEDED]
    denied = [d for d in deliveries if d.outcome is Outcome.REFUSED]
    assert {d.details["policies"][0] for d in allowed} == {"agreement:footwear-custody"}
    assert allowed[0].purpose == "footwear comparison"
    assert {d.recipients[0] for d in denied} >= {"system:intel-files", "system:footwear-files"}
    assert all(d.details["policies"] == ["no-agreement"] for d in denied)
