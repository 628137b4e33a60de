"""``polestar search ...`` on an embedded hub's data folder."""

from __future__ import annotations

import asyncio
import json

from _search_helpers import person, put
from typer.testing import CliRunner

from polestar.cli.search import app
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
