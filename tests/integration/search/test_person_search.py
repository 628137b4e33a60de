"""Person search over the store: roadside queries find the person, explained; erasure reaches the keys."""

from __future__ import annotations

from _search_helpers import person, put

from polestar.search import PersonQuery
from polestar.sims.synthetic import make_pnc_id


async def _people(store, index):
    await put(
        store,
        person("p1", "Robert", "Smith", date_of_birth="1985-06-14", gender="1"),
        person("p2", "Robert", "Smith", date_of_birth="1962-01-30", gender="1"),
        person(
            "p3",
            "Catherine",
            "O'Neill",
            date_of_birth="1990-03",
            gender="2",
            aliases=[{"given": "Kate", "family": "Jones", "type": "alias"}],
        ),
        person("p4", "Mohammed", "Khan", date_of_birth={"earliest": "1980-01-01", "latest": "1984-12-31"}),
    )
    assert await index.rebuild() == 5


async def test_nickname_and_date_of_birth_find_one_strong_result(indexed):
    store, index = indexed
    await _people(store, index)
    found = await index.search(PersonQuery(given="Bob", family="Smith", date_of_birth="1985-06-14"))
    assert [m.person_id for m in found] == ["p1"]
    assert found[0].band == "strong"
    levels = {f.field: f.level for f in found[0].fields}
    assert levels == {"given": "nickname", "family": "exact", "birth": "exact"}


async def test_typo_swapped_names_and_partial_date_still_find_the_person(indexed):
    store, index = indexed
    await _people(store, index)
    found = await index.search(PersonQuery(given="ONeil", family="Catherine", date_of_birth="1990"))
    assert found[0].person_id == "p3"
    assert found[0].swapped


async def test_alias_and_age_range_match(indexed):
    store, index = indexed
    await _people(store, index)
    alias = await index.search(PersonQuery(given="Kate", family="Jones"))
    assert alias[0].person_id == "p3"
    assert alias[0].matched_name == "kate jones"
    ranged = await index.search(PersonQuery(given="Mohammed", family="Khan", age_from=40, age_to=46))
    assert ranged[0].person_id == "p4"


async def test_merged_records_come_back_as_the_survivor(indexed):
    store, index = indexed
    await _people(store, index)
    await store.merge("p1", "p2", actor="user:dc42", reason="same person")
    found = await index.search(PersonQuery(given="Robert", family="Smith"))
    assert [m.person_id for m in found] == ["p1"]


async def test_erasure_removes_person_from_search_index(indexed):
    store, index = indexed
    await _people(store, index)
    rows = await store.rows_for_subject("p3")
    assert {r.key for r in rows if r.component == "search"} == {"p3/0", "p3/1"}
    summary = await store.erase_subject("p3", actor="user:dpo", reason="s47 request")
    assert summary is not None
    assert await index.search(PersonQuery(given="Catherine", family="O'Neill", include_below=True)) == []


async def test_refresh_follows_an_update(indexed):
    store, index = indexed
    await _people(store, index)
    await put(store, person("p5", "Zara", "Ahmed"))
    assert await index.search(PersonQuery(given="Zara", family="Ahmed")) == []
    await index.refresh(["p5"])
    assert [m.person_id for m in await index.search(PersonQuery(given="Zara", family="Ahmed"))] == ["p5"]


async def test_identifier_alone_finds_the_person_and_a_different_one_counts_against(indexed):
    store, index = indexed
    mine, other = make_pnc_id(2004, 123456), make_pnc_id(2011, 654321)
    await put(
        store,
        person(
            "p1", "Robert", "Smith", date_of_birth="1985-06-14", identifiers=[{"type": "PNC", "value": mine}]
        ),
        person(
            "p2", "Robert", "Smith", date_of_birth="1985-06-14", identifiers=[{"type": "PNC", "value": other}]
        ),
    )
    await index.rebuild()
    short_form = mine[2:]  # YY/NNNNNNNA: canonicalised before matching
    found = await index.search(PersonQuery(identifiers=[{"type": "PNC", "value": short_form}]))
    assert [m.person_id for m in found] == ["p1"]
    assert found[0].band == "strong"
    both = await index.search(
        PersonQuery(
            given="Robert", family="Smith", identifiers=[{"type": "PNC", "value": mine}], include_below=True
        )
    )
    assert [m.person_id for m in both] == ["p1", "p2"]
    assert {f.level for f in both[1].fields if f.field == "identifier"} == {"different"}


async def test_refresh_updated_follows_changes_by_watermark(indexed):
    store, index = indexed
    await _people(store, index)
    written, mark = await index.refresh_updated(None)
    assert written == 5
    assert mark is not None
    await put(store, person("p5", "Zara", "Ahmed"))
    written, later = await index.refresh_updated(mark)
    assert later is not None
    assert later >= mark
    assert [m.person_id for m in await index.search(PersonQuery(given="Zara", family="Ahmed"))] == ["p5"]
