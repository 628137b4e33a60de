"""``polestar search ...`` on an embedded hub's data folder."""

from __future__ import annotations

import asyncio
import json

from _search_helpers import T0, person, put
from typer.testing import CliRunner

from polestar.cli.search import app
from polestar.model import Link, Location, to_envelope
from polestar.search import SearchIndex
from polestar.store import SqliteStore


async def _hub(tmp_path):
    store = SqliteStore(tmp_path / "store.sqlite3")
    await store.start()
    await put(store, person("p1", "Robert", "Smith", date_of_birth="1985-06-14"))
    index = SearchIndex(store.engine)
    await index.start()
    await index.rebuild()
    await store.close()


def test_people_search_from_the_command_line(tmp_path):
    asyncio.run(_hub(tmp_path))
    runner = CliRunner(env={"COLUMNS": "200"})
    args = ["people", "--given", "Bob", "--family", "Smith", "--dob", "1985", "--data-dir", str(tmp_path)]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert [m["person_id"] for m in json.loads(result.output)] == ["p1"]
    table = runner.invoke(app, args)
    assert "p1" in table.output
    assert "nickname" in table.output or "forms of one name" in table.output


def test_a_bad_query_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["people", "--dob", "1985", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2


async def _places(tmp_path):
    store = SqliteStore(tmp_path / "store.sqlite3")
    await store.start()
    await put(store, person("p1", "Robert", "Smith", date_of_birth="1985-06-14"))
    prov = {"organisation": "01", "system": "cad", "observed_at": T0, "recorded_at": T0}
    home = Location(
        id="l1",
        address={"lines": ["14 Acacia Avenue"], "town": "Swansea", "postcode": "SA2 0AB"},
        coordinates={"latitude": 51.6155, "longitude": -3.988},
        provenance=prov,
    )
    lives = Link(
        id="k1",
        role="resident",
        from_ref={"type": "person", "id": "p1"},
        to_ref={"type": "location", "id": "l1"},
        provenance=prov,
    )
    await store.apply(to_envelope(home, type="location.created", source="/t", actor="system:t"))
    await store.apply(to_envelope(lives, type="link.created", source="/t", actor="system:t"))
    await store.close()


def test_places_and_links_from_the_command_line(tmp_path):
    asyncio.run(_places(tmp_path))
    runner = CliRunner(env={"COLUMNS": "200"})
    rebuilt = runner.invoke(app, ["rebuild", "--data-dir", str(tmp_path)])
    assert rebuilt.exit_code == 0, rebuilt.output
    near = ["locations", "--near", "51.616", "-3.988", "500", "--data-dir", str(tmp_path), "--json"]
    found = runner.invoke(app, near)
    assert found.exit_code == 0, found.output
    assert [m["location_id"] for m in json.loads(found.output)] == ["l1"]
    typed = runner.invoke(
        app, ["locations", "--text", "14 acacia", "--postcode", "SA2 0AB", "--data-dir", str(tmp_path)]
    )
    assert "l1" in typed.output
    linked = runner.invoke(app, ["links", "l1", "--kind", "person", "--data-dir", str(tmp_path), "--json"])
    assert [r["entity_id"] for r in json.loads(linked.output)["linked"]] == ["p1"]
    assert runner.invoke(app, ["locations", "--postcode", "ZZ", "--data-dir", str(tmp_path)]).exit_code == 2
    assert runner.invoke(app, ["links", "nobody", "--data-dir", str(tmp_path)]).exit_code != 0
