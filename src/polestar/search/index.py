"""``SearchIndex``: the person search keys beside the store's tables, and the search over them.

::

    index = SearchIndex(store.engine)
    store.hooks.register(index)             # erasure reaches the search keys from a person's id
    await index.start()                     # creates the table if missing
    await index.rebuild()                   # from store_entities (or refresh(ids) after applies)
    matches = await index.search(PersonQuery(given="Bob", family="Smyth", date_of_birth="1985"))

The keys are derived data: ``rebuild`` recreates them from the store, and
``refresh(ids)`` re-reads some records (call it with the ids an apply touched).
A merged record keeps its own keys; results are folded onto the survivor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete, inspect, select

from polestar.search.bounds import ScoreBounds
from polestar.search.keys import PersonKeys, keys_from_document
from polestar.search.people import candidate_of, candidate_rows, load
from polestar.search.query import PersonMatch, PersonQuery
from polestar.search.ranking import Candidate, QueryScorer, Thresholds, ordered
from polestar.search.scoring import MatchModel
from polestar.search.tables import metadata, person_identifiers, person_keys
from polestar.store.records import SubjectRow
from polestar.store.sqlbase import roots, utc
from polestar.store.tables import entities

T = TypeVar("T")
BATCH = 2000
FOLD_WINDOW = 200
"""Most results read before folding merged records onto their survivors."""
SCREEN_PAGE = 100
"""Candidates screened at a time when the caller may not see every record."""

Screen = Callable[[Collection[str]], Awaitable[set[str]]]
"""Which of these record ids the caller may see (``search``'s ``visible``)."""
Scored = tuple[float, str, tuple[list[Any], list[tuple[str, str]]]]
"""A candidate scored: (score, record id, (its key rows, its identifiers))."""


class SearchIndex:
    """Person search keys in the store's database; also the store's ``search`` erasure hook.

    Args:
        engine: the store's engine (``store.engine``): the keys live beside its tables.
        model: m/u probabilities per field (``weights.estimate`` refines them from the data).
        thresholds: the bands' cut-offs.
    """

    name = "search"

    def __init__(
        self, engine: Engine, *, model: MatchModel | None = None, thresholds: Thresholds | None = None
    ) -> None:
        self.engine = engine
        self.model = model or MatchModel()
        self.thresholds = thresholds or Thresholds()

    async def _run(self, work: Callable[[Connection], T]) -> T:
        def in_thread() -> T:
            with self.engine.begin() as conn:
                return work(conn)

        return await asyncio.to_thread(in_thread)

    # --- keeping the keys ------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the keys table if it is missing."""
        await asyncio.to_thread(metadata.create_all, self.engine)

    def put_blocking(self, conn: Connection, people: Sequence[PersonKeys]) -> int:
        """Replace the keys of ``people`` (blocking, in ``conn``'s transaction); rows written."""
        ids = [p.person_id for p in people]
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            conn.execute(delete(person_keys).where(person_keys.c.person_id.in_(chunk)))
            conn.execute(delete(person_identifiers).where(person_identifiers.c.person_id.in_(chunk)))
        written = 0
        for table, rows in (
            (person_keys, [row for p in people for row in p.rows()]),
            (person_identifiers, [row for p in people for row in p.identifier_rows()]),
        ):
            for start in range(0, len(rows), BATCH):
                conn.execute(table.insert(), rows[start : start + BATCH])
            written += len(rows)
        return written

    async def put(self, people: Sequence[PersonKeys]) -> int:
        """Replace the keys of ``people``."""
        return await self._run(lambda conn: self.put_blocking(conn, people))

    async def refresh(self, record_ids: Iterable[str]) -> int:
        """Re-read these records from the store (a record gone or not a person loses its keys)."""
        ids = sorted(set(record_ids))
        return await self._run(lambda conn: self.refresh_blocking(conn, ids))

    def refresh_blocking(self, conn: Connection, record_ids: Sequence[str]) -> int:
        """``refresh`` in the caller's transaction (the store's writer refreshes a batch in one)."""
        ids = list(record_ids)
        rows = conn.execute(
            select(entities.c.id, entities.c.document).where(
                entities.c.id.in_(ids), entities.c.kind == "person"
            )
        ).all()
        conn.execute(delete(person_keys).where(person_keys.c.person_id.in_(ids)))
        conn.execute(delete(person_identifiers).where(person_identifiers.c.person_id.in_(ids)))
        return self.put_blocking(conn, [keys_from_document(r.id, r.document) for r in rows])

    async def refresh_updated(self, since: datetime | None) -> tuple[int, datetime | None]:
        """Re-read every person record the store changed at or after ``since`` (all if None).

        Returns the rows written and the watermark to pass next time (the latest
        ``updated_at`` seen; ``since`` again if nothing changed). Run it on a timer,
        or after a batch of applies, to keep the keys current without naming ids.
        """

        def work(conn: Connection) -> tuple[int, datetime | None]:
            statement = select(entities.c.id, entities.c.document, entities.c.updated_at).where(
                entities.c.kind == "person"
            )
            if since is not None:
                statement = statement.where(entities.c.updated_at >= since)
            rows = conn.execute(statement).all()
            if not rows:
                return 0, since
            written = self.put_blocking(conn, [keys_from_document(r.id, r.document) for r in rows])
            return written, max(utc(r.updated_at) for r in rows)

        return await self._run(work)

    async def rebuild(self) -> int:
        """Recreate every person's keys from the store; rows written."""

        def work(conn: Connection) -> int:
            conn.execute(delete(person_keys))
            conn.execute(delete(person_identifiers))
            written = 0
            batch: list[PersonKeys] = []
            result = conn.execute(
                select(entities.c.id, entities.c.document).where(entities.c.kind == "person")
            )
            for row in result:
                batch.append(keys_from_document(row.id, row.document))
                if len(batch) >= BATCH:
                    written += self.put_blocking(conn, batch)
                    batch = []
            return written + self.put_blocking(conn, batch)

        return await self._run(work)

    # --- the erasure hook ------------------------------------------------------------------------

    async def locate(self, record_ids: Sequence[str]) -> list[SubjectRow]:
        """The key rows held for ``record_ids``."""

        def work(conn: Connection) -> list[SubjectRow]:
            ids = list(record_ids)
            names = conn.execute(
                select(person_keys.c.person_id, person_keys.c.seq).where(person_keys.c.person_id.in_(ids))
            ).all()
            held = conn.execute(
                select(person_identifiers.c.person_id, person_identifiers.c.type).where(
                    person_identifiers.c.person_id.in_(ids)
                )
            ).all()
            return [SubjectRow("search", person_keys.name, f"{r.person_id}/{r.seq}") for r in names] + [
                SubjectRow("search", person_identifiers.name, f"{r.person_id}/{r.type}") for r in held
            ]

        return await self._run(work)

    async def erase(self, record_ids: Sequence[str]) -> int:
        """Delete the key rows held for ``record_ids``; idempotent."""

        def work(conn: Connection) -> int:
            ids = list(record_ids)
            gone = conn.execute(delete(person_keys).where(person_keys.c.person_id.in_(ids)))
            held = conn.execute(delete(person_identifiers).where(person_identifiers.c.person_id.in_(ids)))
            return int(gone.rowcount or 0) + int(held.rowcount or 0)

        return await self._run(work)

    # --- searching -------------------------------------------------------------------------------

    def search_blocking(self, conn: Connection, query: PersonQuery) -> list[PersonMatch]:
        """``search`` on an open connection (for benchmarks and callers with their own thread)."""
        scorer = QueryScorer(query, self.model)
        scored = self._read(conn, query, scorer)
        shown = ordered(query, scored, self.thresholds)[:FOLD_WINDOW]
        where: dict[str, str] = {}
        if not shown and len(scored) > 1 and not query.include_below and has_store(conn):
            # Nothing shown, perhaps only because a person's merged records tie, each standing in
            # the other's way as a weak result: fold them first, so rivals are other people.
            floor = self.thresholds.read_floor(query)
            near = [s for s in scored if s[0] >= floor]
            where = roots(conn, [pid for _, pid, _ in near])  # covers whatever is shown from ``near``
            shown = ordered(query, best_per_person(near, lambda s: where.get(s[1], s[1])), self.thresholds)
        elif shown and has_store(conn):
            where = roots(conn, [pid for _, pid, _ in shown])
        kept: list[PersonMatch] = []
        seen: set[str] = set()
        for total, pid, (rows, held) in shown:  # best first, so a survivor keeps its best-scoring record
            root = where.get(pid, pid)
            if root not in seen:
                seen.add(root)
                kept.append(scorer.match(candidate_of(rows, held), self.thresholds.band(total), root))
                if len(kept) >= query.limit:
                    break
        return kept

    def _read(self, conn: Connection, query: PersonQuery, scorer: QueryScorer) -> list[Scored]:
        """Every candidate that can change what ``query`` shows, scored.

        Read in stages, each leaving in the database the records that cannot
        reach its cut-off (``bounds.ScoreBounds``): first "possible". Only when
        nothing reached it and a weak result may be shown (``Thresholds.read_floor``
        is lower), again to "weak"; and when a record reached that, again to
        ``clear`` bits below the best, which reads every record that could stop it
        standing clear. Reading to ``read_floor`` at once costs far more: without
        a year of birth, every record sharing one of the names can score that much
        (at a million people, p95 0.9 s CPU for names and an age range, against 18 ms).
        """
        t = self.thresholds
        scored = self._scored(conn, query, scorer, t.possible)
        if t.read_floor(query) >= t.possible or any(s[0] >= t.possible for s in scored):
            return scored
        scored = self._scored(conn, query, scorer, t.weak)
        best = max((s[0] for s in scored), default=None)
        if best is None or best < t.weak:
            return scored  # nothing can be shown
        return self._scored(conn, query, scorer, max(t.read_floor(query), best - t.clear))

    def _scored(
        self, conn: Connection, query: PersonQuery, scorer: QueryScorer, floor: float
    ) -> list[Scored]:
        """(score, record id, (key rows, identifiers)) of the candidates, all that can reach ``floor``."""
        # Bands whose read floor is ``floor`` (weak at "possible" leaves no weak band to allow for).
        reading = self.thresholds.model_copy(update={"possible": floor, "weak": floor})
        found = candidate_rows(conn, query, ScoreBounds(scorer, reading))
        return [(scorer.total_of_rows(rows, held), rows[0][0], (rows, held)) for rows, held in found]

    async def search(self, query: PersonQuery, *, visible: Screen | None = None) -> list[PersonMatch]:
        """People matching ``query``, best first, banded, each with why it matched.

        With ``visible``, records the caller may not see are left out *before*
        ranking, so up to ``limit`` visible people come back and a hidden record
        changes nothing else: the "no more than ``gap`` below the best" cut
        starts from the best record shown, not from a hidden one.
        """
        if visible is None:
            return await self._run(lambda conn: self.search_blocking(conn, query))
        scorer = QueryScorer(query, self.model)
        ranked = await self._run(lambda conn: self._ranked_blocking(conn, query, scorer))
        seen = await self._screened(query, scorer, ranked, visible)
        kept = self._folded(query, scorer, seen)
        if kept or query.include_below or self.thresholds.read_floor(query) >= self.thresholds.possible:
            return kept
        return await self._weak_screened(query, scorer, visible)

    async def _screened(
        self, query: PersonQuery, scorer: QueryScorer, ranked: Sequence[Scored], visible: Screen
    ) -> list[tuple[float, str, tuple[str, Any]]]:
        """Of ``ranked`` (best first), what ``visible`` lets through, each with its survivor."""
        seen: list[tuple[float, str, tuple[str, Any]]] = []
        for start in range(0, len(ranked), SCREEN_PAGE):
            page = ranked[start : start + SCREEN_PAGE]
            where = await self._run(partial(self._roots_of, page=page))
            # A record is shown only if both it and the survivor it was merged into may be seen.
            shown = await visible({*where, *where.values()})
            seen += [(t, p, (where[p], c)) for t, p, c in page if p in shown and where[p] in shown]
            if len(self._folded(query, scorer, seen)) >= query.limit:
                break
            if seen and not query.include_below and page[-1][0] < seen[0][0] - self.thresholds.gap:
                break  # the rest are too far below the best visible record to be shown
        return seen

    async def _weak_screened(
        self, query: PersonQuery, scorer: QueryScorer, visible: Screen
    ) -> list[PersonMatch]:
        """The weak result, if any, among the records the caller may see (nothing visible reached "possible").

        As ``_read`` does, in stages: the visible records that reach "weak", and
        if there is one, every visible record within ``clear`` bits of the best of
        them, which ``ordered`` needs to tell whether it stands clear. Hidden
        records neither stand in its way nor make it: the caller sees what the
        search would show if they did not exist.
        """
        t = self.thresholds
        weak = await self._run(lambda conn: self._scored(conn, query, scorer, t.weak))
        above = sorted((s for s in weak if s[0] >= t.weak), key=lambda s: (-s[0], s[1]))
        first = query.model_copy(
            update={"limit": 1, "include_below": True}
        )  # the best visible, whatever its band
        best = await self._screened(first, scorer, above, visible)
        if not best:
            return []
        floor = max(t.read_floor(query), best[0][0] - t.clear)
        near = await self._run(lambda conn: self._scored(conn, query, scorer, floor))
        rivals = sorted((s for s in near if s[0] >= floor), key=lambda s: (-s[0], s[1]))
        # The best visible person and the next are all the "clear" test needs, whatever ``limit`` is.
        pair = query.model_copy(update={"include_below": True, "limit": 2})
        seen = await self._screened(pair, scorer, rivals, visible)
        return self._folded(query, scorer, seen)

    def _ranked_blocking(self, conn: Connection, query: PersonQuery, scorer: QueryScorer) -> list[Scored]:
        # Every candidate that could be shown to someone, best first; the gap cut waits for screening.
        scored = self._scored(conn, query, scorer, self.thresholds.possible)
        ranked = ordered(query.model_copy(update={"include_below": True}), scored, self.thresholds)
        if query.include_below:
            return ranked
        return [s for s in ranked if s[0] >= self.thresholds.possible]

    @staticmethod
    def _roots_of(conn: Connection, *, page: Sequence[tuple[float, str, Any]]) -> dict[str, str]:
        ids = [pid for _, pid, _ in page]
        return roots(conn, ids) if has_store(conn) else {i: i for i in ids}

    def _folded(
        self, query: PersonQuery, scorer: QueryScorer, seen: Sequence[tuple[float, str, tuple[str, Any]]]
    ) -> list[PersonMatch]:
        kept: list[PersonMatch] = []
        folded: set[str] = set()
        # One entry per person before ranking: a person's merged records are not rivals to a weak result.
        people = best_per_person(seen, lambda s: s[2][0])
        for total, _, (root, (rows, held)) in ordered(query, people, self.thresholds):
            if root not in folded:  # best first, so a survivor keeps its best-scoring record
                folded.add(root)
                kept.append(scorer.match(candidate_of(rows, held), self.thresholds.band(total), root))
                if len(kept) >= query.limit:
                    break
        return kept

    def holders_blocking(self, conn: Connection, identifiers: Iterable[tuple[str, str]]) -> set[str]:
        """Records holding any of these (type, canonical value) identifiers."""
        wanted = list(dict.fromkeys(identifiers))
        found: set[str] = set()
        for kind, value in wanted:
            t = person_identifiers.c
            found.update(conn.execute(select(t.person_id).where(t.type == kind, t.value == value)).scalars())
        return found

    async def identifiers_of(self, record_ids: Collection[str]) -> set[tuple[str, str]]:
        """(type, canonical value) of every identifier these records hold (each record's own)."""
        wanted = sorted(set(record_ids))

        def work(conn: Connection) -> set[tuple[str, str]]:
            t = person_identifiers.c
            found: set[tuple[str, str]] = set()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                found.update(
                    (r.type, r.value)
                    for r in conn.execute(select(t.type, t.value).where(t.person_id.in_(chunk)))
                )
            return found

        return await self._run(work)

    async def holders(self, identifiers: Iterable[tuple[str, str]]) -> set[str]:
        """Records holding any of these identifiers (not folded through merges)."""
        wanted = list(identifiers)
        return await self._run(lambda conn: self.holders_blocking(conn, wanted))

    async def keys_of(self, record_id: str) -> Candidate | None:
        """The keys held for one record, as the matcher compares them."""
        found = await self._run(lambda conn: load(conn, [record_id]))
        return found[0] if found else None


def best_per_person(
    scored: Iterable[tuple[float, str, T]], person: Callable[[tuple[float, str, T]], str]
) -> list[tuple[float, str, T]]:
    """Of (score, record id, anything), each ``person``'s best record (ties: lowest id), best first."""
    kept: dict[str, tuple[float, str, T]] = {}
    for entry in sorted(scored, key=lambda s: (-s[0], s[1])):
        kept.setdefault(person(entry), entry)
    return list(kept.values())


def has_store(conn: Connection) -> bool:
    """True if the store's tables are in ``conn``'s database (benchmarks hold only the keys)."""
    info = conn.info
    if "polestar_has_store" not in info:
        info["polestar_has_store"] = inspect(conn).has_table(entities.name)
    return bool(info["polestar_has_store"])
