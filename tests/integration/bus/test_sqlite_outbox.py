"""The embedded outbox: the application's write and its event commit together, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from _bus_helpers import collect, event, spec

from polestar.bus.config import SqliteBusConfig
from polestar.bus.outbox import SqliteOutbox, SqliteOutboxTransaction
from polestar.bus.sqlite import SqliteEngine
from polestar.errors import PublishRefused


@pytest.fixture
async def engine(tmp_path: Path):
    engine = SqliteEngine(SqliteBusConfig(path=tmp_path / "bus.sqlite3", poll_interval=0.02))
    await engine.start()
    yield engine
    await engine.close()


@pytest.fixture
def outbox(engine: SqliteEngine):
    outbox = SqliteOutbox(engine)
    with outbox.transaction() as tx:
        tx.execute("CREATE TABLE detainees (ref TEXT PRIMARY KEY, name TEXT)")
    yield outbox
    outbox.close()


def detainees(outbox: SqliteOutbox) -> list[str]:
    with outbox.transaction() as tx:
        return [row[0] for row in tx.execute("SELECT ref FROM detainees ORDER BY ref")]


async def test_the_record_and_its_event_commit_together(engine, outbox):
    consumer = await engine.subscribe(spec())

    def book(tx: SqliteOutboxTransaction) -> None:
        tx.execute("INSERT INTO detainees VALUES (?, ?)", ("CUS-1", "A. Person"))
        tx.publish(event(1))

    await outbox.run(book)
    assert detainees(outbox) == ["CUS-1"]
    (delivery,) = await collect(consumer, 1, timeout=2)
    assert delivery.message.envelope.data["n"] == 1
    await delivery.ack()


async def test_a_failure_rolls_back_both_the_record_and_the_event(engine, outbox):
    def book_then_fail(tx: SqliteOutboxTransaction) -> None:
        tx.execute("INSERT INTO detainees VALUES (?, ?)", ("CUS-2", "B. Person"))
        tx.publish(event(2))
        raise RuntimeError("custody system said no")

    with pytest.raises(RuntimeError):
        await outbox.run(book_then_fail)
    assert detainees(outbox) == []
    assert (await engine.stats()).messages == 0


async def test_a_refused_event_refuses_the_whole_transaction(engine, outbox):
    def bad(tx: SqliteOutboxTransaction) -> None:
        tx.execute("INSERT INTO detainees VALUES (?, ?)", ("CUS-3", "C. Person"))
        tx.publish(event(3), subject="not a subject")

    with pytest.raises(PublishRefused):
        await outbox.run(bad)
    assert detainees(outbox) == []


async def test_an_idempotent_consumer_skips_a_redelivered_message(engine, outbox):
    await engine.publish(event(5))
    consumer = await engine.subscribe(spec(ack_wait=0.5))
    applied: list[int] = []

    def apply(tx: SqliteOutboxTransaction, message_id: str, n: int) -> None:
        if not tx.first_time("intake", message_id):
            return
        tx.execute("INSERT INTO detainees VALUES (?, ?)", (f"CUS-{n}", "D. Person"))
        applied.append(n)

    (first,) = await collect(consumer, 1)
    envelope = first.message.envelope
    await outbox.run(lambda tx: apply(tx, envelope.id, envelope.data["n"]))
    # crashed before acknowledging: the message comes back
    (again,) = await collect(consumer, 1, timeout=5)
    assert again.attempt == 2
    await outbox.run(lambda tx: apply(tx, envelope.id, envelope.data["n"]))
    await again.ack()
    assert applied == [5]
    assert detainees(outbox) == ["CUS-5"]
