"""Custody extract files the example mapping reads; the warehouse loading batches against manifests."""

import asyncio
import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from polestar.mapping import MappingContext, load_mappings
from polestar.sims import custody, pnc, warehouse
from polestar.sims.serving import serve
from polestar.sims.synthetic import World

MAPPINGS = Path(__file__).parents[3] / "examples" / "integration" / "mappings"


@pytest.fixture(scope="module")
def world():
    return World.build(41, people=500, vehicles=100)


def example_columns():
    fixtures = yaml.safe_load((MAPPINGS / "custody.test.yaml").read_text())["tests"]
    raw = next(t["raw"] for t in fixtures if t.get("format") == "csv")
    return tuple(raw.splitlines()[0].split(","))


def test_episode_files_have_exactly_the_columns_the_custody_mapping_reads(world, tmp_path):
    sim = custody.CustodySimulator(world, tmp_path)
    paths = sim.write_extract(sim.generate(10))
    assert [p.name.split("-")[1] for p in paths] == ["reviews", "footwear", "releases", "episodes"]
    assert not list(tmp_path.glob("*.part"))
    with paths[-1].open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == example_columns() == custody.EPISODE_COLUMNS
        assert len(list(reader)) == 10


def test_generated_episodes_map_through_the_example_custody_mapping(world):
    mapping = load_mappings([MAPPINGS]).inbound("custody-csv")
    context = MappingContext(
        connector="custody-files",
        source="/connectors/custody-files",
        where="sim",
        received_at=datetime.now(UTC),
    )
    episodes = custody.CustodySimulator(world).generate(120)
    for episode in episodes:
        events = mapping.to_canonical(dict(episode.row), context)
        assert {e.type for e in events} >= {"custody.episode.opened", "person.created", "arrest.recorded"}


def test_custody_episodes_are_deterministic_and_cover_the_lifecycle(world):
    first = custody.CustodySimulator(world).generate(40)
    again = custody.CustodySimulator(world).generate(40)
    assert [e.row for e in first] == [e.row for e in again]
    assert any(e.reviews for e in first)
    assert any(e.footwear for e in first)
    assert all(e.release for e in first)
    assert len({e.custody_no for e in first}) == 40


async def test_the_same_person_is_in_custody_and_on_pnc(world):
    episodes = custody.CustodySimulator(world).generate(30)
    detainee = next(e for e in episodes if e.row["pnc_id"])
    app = pnc.create_app(world)
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<PersonEnquiry xmlns="{pnc.PNC_NS}"><UserId>DS1</UserId><ReasonCode>5</ReasonCode>'
        f"<PNCId>{detainee.row['pnc_id']}</PNCId></PersonEnquiry></soap:Body></soap:Envelope>"
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pnc") as client:
        reply = await client.post(pnc.ENQUIRY_PATH, content=body, headers={"Content-Type": "text/xml"})
    assert detainee.person.family.upper().encode() in reply.content


async def test_the_custody_app_generates_and_serves_episodes(world, tmp_path):
    app = custody.create_app(world, folder=tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://custody") as client:
        made = (await client.post("/_sim/generate", json={"count": 3})).json()
        assert len(made["episodes"]) == 3
        assert len(made["files"]) == 4
        one = (await client.get(f"/episodes/{made['episodes'][0]}")).json()
        assert one["booking"]["custody_no"] == made["episodes"][0]
        assert one["release"]["outcome"] in custody.RELEASE_OUTCOMES


def write_batch(folder, name, rows, *, records=None, sha=None):
    body = "event_id,custody_record_number\n" + "".join(f"{i},01CX/{i:06d}/26\n" for i in range(rows))
    data = body.encode()
    (folder / name).write_bytes(data)
    manifest = {
        "file": name,
        "connector": "warehouse",
        "format": "csv",
        "records": rows if records is None else records,
        "bytes": len(data),
        "sha256": sha or hashlib.sha256(data).hexdigest(),
        "event_ids": [str(i) for i in range(rows)],
    }
    (folder / f"{name}.manifest.json").write_text(json.dumps(manifest))


def test_the_warehouse_loads_good_batches_and_rejects_bad_ones_with_reasons(tmp_path):
    sink = warehouse.WarehouseSink(tmp_path)
    write_batch(tmp_path, "batch-1.csv", 3)
    write_batch(tmp_path, "batch-2.csv", 3, records=4)
    write_batch(tmp_path, "batch-3.csv", 2, sha="0" * 64)
    (tmp_path / "batch-4.csv").write_text("event_id\n1\n")  # its manifest has not arrived yet
    recorded = {b["file"]: b for b in sink.scan()}
    assert recorded["batch-1.csv"]["status"] == "loaded"
    assert recorded["batch-1.csv"]["records"] == 3
    assert recorded["batch-2.csv"]["problems"] == ["records: manifest says 4, file has 3"]
    assert recorded["batch-3.csv"]["problems"][0].startswith("sha256")
    assert "batch-4.csv" not in recorded
    assert (tmp_path / "loaded" / "batch-1.csv").exists()
    reason = json.loads((tmp_path / "rejected" / "batch-2.csv.reason.json").read_text())
    assert reason["problems"] == ["records: manifest says 4, file has 3"]
    assert sink.scan() == []


async def test_the_warehouse_watches_its_folder_while_it_runs(tmp_path):
    app = warehouse.create_app(tmp_path, poll_interval=0.05)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        write_batch(tmp_path, "batch-9.csv", 5)
        for _ in range(100):
            batches = (await client.get("/batches")).json()["batches"]
            if batches:
                break
            await asyncio.sleep(0.05)
        assert batches[0]["file"] == "batch-9.csv"
        assert batches[0]["status"] == "loaded"
        assert (await client.get("/batches/batch-9.csv")).json()["event_ids"] == ["0", "1", "2", "3", "4"]
