"""SQLite-only: a claim lets SQLite skip the messages a group's filters cannot match."""

from __future__ import annotations

from pathlib import Path

import pytest
from _bus_helpers import ack_all, collect, event, numbers, spec

from polestar.bus.config import SqliteBusConfig
from polestar.bus.sqlite import SqliteEngine
from polestar.bus.sqlite.claims import SCAN_MAX


@pytest.fixture
async def engine(tmp_path: Path):
    engine = SqliteEngine(SqliteBusConfig(path=tmp_path / "bus.sqlite3", poll_interval=0.02))
    await engine.start()
    yield engine
    await engine.close()


async def test_a_star_matches_exactly_one_token_and_a_final_gt_one_or_more(engine):
    consumer = await engine.subscribe(spec(subjects=("custody.*.released", "incident.>")))
    subjects = [
        "custody.s1.released",  # matches
        "custody.s1.extra.released",  # '*' is one token, not two
        "custody.released",  # nor none
        "incident.unit.assigned",  # matches
        "incident",  # '>' needs at least one more token
        "incidents.unit.assigned",  # a different first token
        "custody.s2.released",  # matches
    ]
    await engine.publish_many([(event(n), subject) for n, subject in enumerate(subjects)])
    got = await collect(consumer, 3, timeout=2.0)
    assert sorted(numbers(got)) == [0, 3, 6]
    await ack_all(got)
    assert await consumer.fetch(5, timeout=0.3) == []


async def test_a_group_whose_filter_matches_nothing_for_a_long_stretch_still_gets_what_follows(engine):
    consumer = await engine.subscribe(spec(subjects=("incident.>",)))
    await engine.publish_many([(event(n), None) for n in range(SCAN_MAX + 500)])
    await engine.publish(event(-1, kind="incident.unit.assigned"))
    got = await collect(consumer, 1, timeout=5.0)
    assert numbers(got) == [-1]
    await ack_all(got)
    stats = await engine.stats()
    (group,) = stats.groups
    assert group.last_sequence == stats.last_sequence
