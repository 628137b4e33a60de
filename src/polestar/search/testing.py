"""Test helpers: a search index's person keys from plain rows, as tests write them.

::

    put_people(engine, [("p1", "Timothy", "McCarthy", "1953-06-07")])

The rows go in through ``SearchIndex.put_blocking``, as the hub's own refresh writes them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine

from polestar.search.index import SearchIndex
from polestar.search.keys import BirthDate, NameKeys, PersonKeys

Person = tuple[str, str, str, str | None]
"""(record id, given name, family name, date of birth as ``YYYY[-MM[-DD]]`` or None)."""


def put_people(engine: Engine, people: Iterable[Person]) -> None:
    """Write one key row per person (one name each) into ``engine``'s search tables, in one transaction."""
    keys = [
        PersonKeys(pid, (NameKeys.of(given, family),), BirthDate.parse(born))
        for pid, given, family, born in people
    ]
    with engine.begin() as conn:
        SearchIndex(engine).put_blocking(conn, keys)
