"""Shared helpers for the file and HTTP connector tests: a real bus, real servers, custody data.

* ``open_bus(tmp_path)`` — a started SQLite bus engine in the test's folder.
* ``LocalServer`` — a real uvicorn server on 127.0.0.1 and a free port, in the test's loop.
* ``CustodyCsvMapping`` — a small ``InboundMapping`` for a custody system's CSV extract.
* ``custody_csv(rows, broken)`` — that extract with realistic defects in chosen rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn

from polestar.bus.config import SqliteBusConfig
from polestar.bus.contract import BusEngine, PublishAck
from polestar.bus.sqlite import SqliteEngine
from polestar.connectors.codecs import RecordFormat
from polestar.connectors.ingest import stable_event_id
from polestar.connectors.spec import ConnectorMappings, ConnectorSpec
from polestar.errors import BusUnavailable, MappingFailed
from polestar.mapping.contract import InboundMapping, MappingContext
from polestar.model.common import Provenance
from polestar.model.custody import CustodyEpisode
from polestar.model.envelope import Envelope, schema_urn
from polestar.model.identifiers import canonical_pnc_id, canonical_postcode, check_letter


@contextlib.asynccontextmanager
async def open_bus(folder: Path, name: str = "bus.sqlite3") -> AsyncIterator[SqliteEngine]:
    engine = SqliteEngine(SqliteBusConfig(path=Path(name), poll_interval=0.02), data_dir=folder)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()


async def bus_envelopes(bus: BusEngine, subjects: Sequence[str] = (">",)) -> list[Envelope]:
    return [message.envelope async for message in bus.read(subjects=subjects)]


class FailingBus:
    """A real bus that becomes unavailable after ``good_publishes`` calls of ``publish_many``: a crash."""

    def __init__(self, bus: BusEngine, good_publishes: int) -> None:
        self._bus = bus
        self._left = good_publishes

    async def publish_many(self, items: Sequence[tuple[Envelope, str | None]]) -> list[PublishAck]:
        if self._left <= 0:
            raise BusUnavailable("the bus went away (simulated crash)")
        self._left -= 1
        return await self._bus.publish_many(items)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bus, name)


# -- servers --------------------------------------------------------------------------------------


class LocalServer:
    """A real uvicorn server for ``app`` on 127.0.0.1 and a free port, running in this event loop."""

    def __init__(self, app: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", access_log=False)
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LocalServer:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        for _ in range(500):
            if self._server.started:
                return self
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        raise RuntimeError("uvicorn did not start")

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        assert self._task is not None
        await self._task
        self._socket.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- a custody system's CSV extract ----------------------------------------------------------------

CUSTODY_COLUMNS = (
    "custody_record_number",
    "custody_suite",
    "arrived_at",
    "surname",
    "forenames",
    "date_of_birth",
    "pnc_id",
    "home_postcode",
)
SUITES = ("Charing Cross", "Brixton", "Wembley", "Lewisham", "Croydon", "Bethnal Green")
SURNAMES = (
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "O'Brien",
    "Patel",
)
FORENAMES = ("John", "Sarah", "Mohammed", "Emily", "David", "Aisha", "Liam", "Chloe", "Tomasz", "Grace")
POSTCODES = ("SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "LS1 4AP", "EC1A 1BB", "W1A 0AX")

DEFECTS = (
    ("bad date of birth", "date_of_birth"),
    ("bad postcode", "home_postcode"),
    ("missing surname", "surname"),
    ("bad PNC check character", "pnc_id"),
    ("missing column", None),
    ("bad arrival time", "arrived_at"),
    ("missing custody record number", "custody_record_number"),
)


@dataclass(frozen=True)
class BrokenRow:
    line: int
    defect: str
    field: str | None


def valid_pnc(rng: random.Random) -> str:
    year = rng.randint(0, 20)
    serial = rng.randint(1, 9_999_999)
    return f"{year:02d}/{serial:07d}{check_letter(int(f'{year:02d}{serial:07d}'))}"


def custody_csv(rows: int, broken: int, seed: int = 4, first: int = 0) -> tuple[bytes, list[BrokenRow]]:
    """A custody extract of ``rows`` records, ``broken`` of them each with one realistic defect."""
    rng = random.Random(seed)
    broken_at = set(rng.sample(range(rows), broken))
    lines = [",".join(CUSTODY_COLUMNS)]
    defects: list[BrokenRow] = []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(rows):
        birth = date(1960, 1, 1) + timedelta(days=rng.randint(0, 16_000))
        row = {
            "custody_record_number": f"01CX/{first + index:06d}/26",
            "custody_suite": rng.choice(SUITES),
            "arrived_at": (start + timedelta(minutes=7 * index)).isoformat().replace("+00:00", "Z"),
            "surname": rng.choice(SURNAMES),
            "forenames": rng.choice(FORENAMES),
            "date_of_birth": birth.isoformat(),
            "pnc_id": valid_pnc(rng),
            "home_postcode": rng.choice(POSTCODES),
        }
        cells: list[str] | None = None
        if index in broken_at:
            defect, field = DEFECTS[len(defects) % len(DEFECTS)]
            defects.append(BrokenRow(line=index + 2, defect=defect, field=field))
            if defect == "bad date of birth":
                row["date_of_birth"] = f"{birth.year}-02-30"
            elif defect == "bad postcode":
                row["home_postcode"] = "QQ1 1ZZ"
            elif defect == "missing surname":
                row["surname"] = ""
            elif defect == "bad PNC check character":
                good = row["pnc_id"]
                row["pnc_id"] = good[:-1] + ("A" if good[-1] != "A" else "B")
            elif defect == "bad arrival time":
                row["arrived_at"] = "31/13/2026 25:61"
            elif defect == "missing custody record number":
                row["custody_record_number"] = ""
            else:
                cells = [row[c] for c in CUSTODY_COLUMNS][:-1]
        cells = cells if cells is not None else [row[c] for c in CUSTODY_COLUMNS]
        lines.append(",".join(f'"{c}"' if "'" in c or "," in c else c for c in cells))
    return ("\r\n".join(lines) + "\r\n").encode(), defects


class CustodyCsvMapping:
    """A custody system's extract row to ``custody.episode.opened``, with stable event ids."""

    name = "custody-csv"

    def to_canonical(self, record: Any, context: MappingContext) -> list[Envelope]:
        def required(field: str) -> str:
            value = str(record.get(field) or "").strip()
            if not value:
                raise MappingFailed(f"{field} is required", field=field, where=context.where)
            return value

        def checked(field: str, parse: Any) -> Any:
            try:
                return parse(required(field))
            except ValueError as exc:
                raise MappingFailed(str(exc), field=field, where=context.where) from None

        number = required("custody_record_number")
        arrived = checked("arrived_at", datetime.fromisoformat)
        checked("date_of_birth", date.fromisoformat)
        checked("pnc_id", canonical_pnc_id)
        checked("home_postcode", canonical_postcode)
        required("surname")
        episode = CustodyEpisode(
            id=stable_event_id("custody-episode", number),
            custody_record_number=number,
            custody_suite=required("custody_suite"),
            arrived_at=arrived,
            relevant_time=arrived,
            provenance=Provenance(organisation="01", system="custody", reference=number, recorded_at=arrived),
        )
        return [
            Envelope(
                id=stable_event_id(context.connector, number, "opened"),
                source=context.source,
                type="custody.episode.opened",
                subject=number,
                partitionkey=number,
                time=arrived,
                dataschema=schema_urn("custody-episode", "1.0"),
                classification="OFFICIAL-SENSITIVE [PERSONAL]",
                data=episode.model_dump(mode="json"),
            )
        ]


class Mappings:
    """A mapping lookup over a few Python mappings."""

    def __init__(self, *mappings: InboundMapping) -> None:
        self._by_name = {m.name: m for m in mappings}

    def __call__(self, name: str) -> InboundMapping:
        return self._by_name[name]


def custody_spec(
    name: str = "custody-files", fmt: RecordFormat = RecordFormat.CSV, **changes: Any
) -> ConnectorSpec:
    return ConnectorSpec(
        name=name, kind="file", format=fmt, mapping=ConnectorMappings(inbound="custody-csv"), **changes
    )
