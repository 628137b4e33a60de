"""``polestar search ...``: find people, vehicles, places and links; rebuild the keys; work the review queue.

Each command opens the configured store (embedded: the SQLite file under the
data folder; cluster: PostgreSQL), does one thing and closes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection

from polestar.cli._hub import default_actor, hub_config
from polestar.cli._output import fail, out
from polestar.cli.up import ConfigOption, DataDirOption
from polestar.resolution import ResolutionError, Resolver
from polestar.search import PersonQuery, SearchIndex
from polestar.search.links import linked_records
from polestar.search.locations import LocationQuery, NearQuery, search_locations
from polestar.search.place_index import PlaceIndex
from polestar.search.vehicles import VehicleQuery, search_vehicles
from polestar.store import MAX_HOPS, SqlStore, open_store

T = TypeVar("T")

app = typer.Typer(
    help="Search people, vehicles, places and links; rebuild the search keys; review possible matches."
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def _with_index(
    config: ConfigOption, data_dir: DataDirOption, work: Callable[[SqlStore, SearchIndex], Awaitable[T]]
) -> T:
    hub = hub_config(config, data_dir)

    async def run() -> T:
        store = open_store(hub.store_url)
        await store.start()
        index = SearchIndex(store.engine)
        await index.start()
        await PlaceIndex(store.engine).start()
        try:
            return await work(store, index)
        finally:
            await store.close()

    return asyncio.run(run())


def _read_store(
    config: ConfigOption, data_dir: DataDirOption, search: Callable[[Connection], Iterable[BaseModel]]
) -> list[dict[str, object]]:
    """What ``search`` finds on one connection to the store, as JSON-ready dicts."""

    async def work(store: SqlStore, _index: SearchIndex) -> list[dict[str, object]]:
        def blocking() -> list[dict[str, object]]:
            with store.engine.connect() as conn:
                return [found.model_dump(mode="json") for found in search(conn)]

        return await asyncio.to_thread(blocking)

    return _with_index(config, data_dir, work)


@app.command("people")
def people(
    *,
    given: Annotated[str | None, typer.Option(help="Given name as typed.")] = None,
    family: Annotated[str | None, typer.Option(help="Family name as typed.")] = None,
    dob: Annotated[str | None, typer.Option(help="Date of birth: YYYY, YYYY-MM or YYYY-MM-DD.")] = None,
    age_from: Annotated[int | None, typer.Option(help="Youngest age.")] = None,
    age_to: Annotated[int | None, typer.Option(help="Oldest age.")] = None,
    gender: Annotated[str | None, typer.Option(help="ISO/IEC 5218: 1 male, 2 female.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also show results below 'possible'.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """People by name (phonetic, fuzzy, nicknames, swapped), date of birth or age range, gender."""
    try:
        query = PersonQuery(
            given=given,
            family=family,
            date_of_birth=dob,
            age_from=age_from,
            age_to=age_to,
            gender=gender,
            include_below=show_all,
        )
    except ValidationError as exc:
        fail(f"query: {exc.errors()[0]['msg']}", code=2)
    matches = _with_index(config, data_dir, lambda _store, index: index.search(query))
    if as_json:
        typer.echo(json.dumps([m.model_dump(mode="json") for m in matches], indent=2))
        return
    table = Table("person", "band", "score", "name matched", "why")
    for m in matches:
        why = "; ".join(f"{f.detail} ({f.weight:+.1f})" for f in m.fields)
        table.add_row(
            escape(m.person_id), m.band.value, f"{m.score:.1f}", escape(m.matched_name), escape(why)
        )
    out().print(table if matches else "no one found at or above 'possible'")


@app.command("vehicles")
def vehicles(
    *,
    registration: Annotated[
        str | None, typer.Option(help="Full or partial mark; ? one character, * any.")
    ] = None,
    make: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    colour: Annotated[str | None, typer.Option()] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Vehicles by registration pattern, make, model and colour."""
    try:
        query = VehicleQuery(registration=registration, make=make, model=model, colour=colour)
    except ValidationError as exc:
        fail(f"query: {exc.errors()[0]['msg']}", code=2)

    found = _read_store(config, data_dir, lambda conn: search_vehicles(conn, query))
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table("vehicle", "registration", "make", "model", "colour")
    for v in found:
        table.add_row(
            *(escape(str(v[k] or "")) for k in ("vehicle_id", "registration", "make", "model", "colour"))
        )
    out().print(table if found else "no vehicle found")


@app.command("locations")
def locations(
    *,
    text: Annotated[str | None, typer.Option(help="Address as typed.")] = None,
    postcode: Annotated[
        str | None, typer.Option(help="Full postcode, sector (SW1A 2) or outward code.")
    ] = None,
    near: Annotated[
        tuple[float, float, float] | None, typer.Option(help="LATITUDE LONGITUDE RADIUS_M: within a circle.")
    ] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Also show results below 'possible'.")] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Places by address text, postcode, or a radius around a point."""
    try:
        circle = None if near is None else NearQuery(latitude=near[0], longitude=near[1], radius_m=near[2])
        query = LocationQuery(text=text, postcode=postcode, near=circle, include_below=show_all)
    except ValidationError as exc:
        fail(f"query: {exc.errors()[0]['msg']}", code=2)

    found = _read_store(config, data_dir, lambda conn: search_locations(conn, query))
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table("location", "band", "address", "postcode", "why")
    for m in found:
        why = "; ".join(str(f["detail"]) for f in m["fields"])  # type: ignore[attr-defined]
        table.add_row(
            *(escape(str(m[k] or "")) for k in ("location_id", "band", "address", "postcode")), escape(why)
        )
    out().print(table if found else "no place found at or above 'possible'")


@app.command("links")
def links(
    record_id: Annotated[str, typer.Argument(help="A person, vehicle, place or event id.")],
    *,
    hops: Annotated[int, typer.Option(min=1, max=MAX_HOPS, help="Links away, at most.")] = 1,
    kind: Annotated[list[str] | None, typer.Option(help="Only records of this kind (repeat).")] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Associates of a person within N links, or everyone linked to a place or vehicle."""

    async def work(store: SqlStore, _index: SearchIndex) -> dict[str, object] | None:
        found = await linked_records(store, record_id, hops=hops, kinds=kind)
        return None if found is None else found.model_dump(mode="json")

    found = _with_index(config, data_dir, work)
    if found is None:
        fail(f"no record {record_id}")
    if as_json:
        typer.echo(json.dumps(found, indent=2))
        return
    table = Table("record", "kind", "links away", "role", "what")
    for r in found["linked"]:  # type: ignore[attr-defined]
        table.add_row(
            *(escape(str(r[k] or "")) for k in ("entity_id", "kind", "depth", "role", "description"))
        )
    out().print(table if found["linked"] else f"nothing linked to {escape(record_id)}")


@app.command("rebuild")
def rebuild(*, config: ConfigOption = None, data_dir: DataDirOption = None) -> None:
    """Recreate every search key (people, places, events) from the store."""

    async def work(store: SqlStore, index: SearchIndex) -> int:
        return await index.rebuild() + await PlaceIndex(store.engine).rebuild()

    written = _with_index(config, data_dir, work)
    out().print(f"search keys rebuilt: {written} rows")


@app.command("reviews")
def reviews(
    *, config: ConfigOption = None, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """Possible matches waiting for a person to decide, highest score first."""

    async def work(store: SqlStore, index: SearchIndex) -> list[dict[str, object]]:
        resolver = Resolver(store, index)
        await resolver.start()
        return [
            {
                "id": r.id,
                "record": r.record_id,
                "candidate": r.candidate_id,
                "score": r.score,
                "reason": r.reason,
            }
            for r in await resolver.reviews()
        ]

    pending = _with_index(config, data_dir, work)
    if as_json:
        typer.echo(json.dumps(pending, indent=2))
        return
    table = Table("review", "record", "may be", "score", "why")
    for r in pending:
        table.add_row(*(escape(str(r[k])) for k in ("id", "record", "candidate", "score", "reason")))
    out().print(table if pending else "no reviews pending")


@app.command("decide")
def decide(
    review_id: Annotated[str, typer.Argument(help="The review's id.")],
    *,
    same: Annotated[bool, typer.Option("--same/--different", help="Same person (merge) or not.")],
    reason: Annotated[str, typer.Option(help="Why (recorded with the merge or rejection).")],
    actor: Annotated[str | None, typer.Option(help="Who decides. Default: user:<login>.")] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Decide a review: --same merges the two records (reversibly), --different rejects it."""
    who = actor or default_actor()

    async def work(store: SqlStore, index: SearchIndex) -> str:
        resolver = Resolver(store, index)
        await resolver.start()
        try:
            review = await resolver.decide(review_id, same=same, actor=who, reason=reason)
        except ResolutionError as exc:
            fail(str(exc))
        return review.status.value

    out().print(f"review {escape(review_id)}: {_with_index(config, data_dir, work)}")
