from __future__ import annotations

import contextlib
import sqlite3

import pytest

from polestar.bus.config import SqliteSynchronous
from polestar.bus.sqlite import schema
from polestar.bus.sqlite.publishing import insert_messages, prepare
from polestar.bus.sqlite.recent import RecentMessages
from polestar.bus.sqlite.rows import Outgoing, StoredMessage, dump_history, load_history
from polestar.errors import BusError, PublishRefused
from polestar.model.envelope import Envelope, is_validated


def envelope(n: int) -> Envelope:
    return Envelope(source="/tests", type="custody.detainee.released", data={"n": n})


@pytest.fixture
def conn(tmp_path):
    conn = schema.connect(tmp_path / "bus.sqlite3", SqliteSynchronous.NORMAL)
    schema.create_schema(conn)
    yield conn
    conn.close()


def outgoing(key: str) -> Outgoing:
    return Outgoing(subject="custody.detainee.released", key=None, body=b"{}", idempotency_key=key)


def test_insert_messages_numbers_consecutively_and_answers_repeats_with_the_original(conn):
    first = insert_messages(
        conn, [outgoing("a"), outgoing("b"), outgoing("a")], dedupe_window=60, max_messages=None
    )
    assert [(a.sequence, a.duplicate) for a in first] == [(1, False), (2, False), (1, True)]
    again = insert_messages(conn, [outgoing("b"), outgoing("c")], dedupe_window=60, max_messages=None)
    assert [(a.sequence, a.duplicate) for a in again] == [(2, True), (3, False)]


def test_insert_messages_trims_to_max_messages(conn):
    insert_messages(conn, [outgoing(str(n)) for n in range(10)], dedupe_window=60, max_messages=4)
    assert [r[0] for r in conn.execute("SELECT seq FROM messages")] == [7, 8, 9, 10]


def test_a_key_outside_the_dedupe_window_is_stored_again(conn):
    insert_messages(conn, [outgoing("a")], dedupe_window=60, max_messages=None)
    conn.execute("UPDATE dedupe SET at = at - 120")
    (ack,) = insert_messages(conn, [outgoing("a")], dedupe_window=60, max_messages=None)
    assert (ack.sequence, ack.duplicate) == (2, False)


def test_prepare_refuses_what_the_bus_must_not_store():
    with pytest.raises(PublishRefused, match="Envelopes"):
        prepare("not an envelope", None, None, 1000)
    with pytest.raises(PublishRefused, match="subject"):
        prepare(envelope(1), "a.*", None, 1000)
    with pytest.raises(PublishRefused, match="bytes"):
        prepare(envelope(1), None, None, 10)
    with pytest.raises(PublishRefused, match="idempotency"):
        prepare(envelope(1), None, "", 1000)
    event = envelope(1)
    item = prepare(event, None, None, 1000)
    assert item.subject == "custody.detainee.released"
    assert item.idempotency_key == event.id


def _item(e: Envelope, size: int = 100) -> Outgoing:
    return Outgoing("custody.detainee.released", None, b"x" * size, e.id, e)


def test_recent_messages_keep_only_committed_batches_and_forget_the_oldest():
    recent = RecentMessages(size=2)
    envelopes = [envelope(n) for n in range(5)]
    for seq, e in enumerate(envelopes[:3], start=1):
        recent.stage_published(seq, [_item(e)], 1.5)
    assert recent.get(1) is not None  # staged: found by claims in the same transaction
    recent.committed()
    assert recent.get(1) is None  # forgotten: only the newest two are kept
    kept = recent.get(3)
    assert kept is not None
    message = kept.message()
    assert (message.sequence, message.envelope, message.published_at.timestamp()) == (3, envelopes[2], 1.5)
    recent.stage_published(4, [_item(envelopes[3])], 2.0)
    recent.rolled_back()  # sequence 4 will be handed out again: it must not be found
    recent.committed()
    assert recent.get(4) is None
    stored = StoredMessage(1, "custody.detainee.released", None, envelopes[0].to_json(), 0.0)
    assert recent.resolve(stored) is stored


def test_recent_messages_find_each_sequence_of_a_batch_and_nothing_between_batches():
    recent = RecentMessages()
    envelopes = [envelope(n) for n in range(5)]
    recent.stage_published(10, [_item(e) for e in envelopes[:3]], 1.0)  # 10, 11, 12
    recent.committed()
    recent.stage_published(20, [_item(e) for e in envelopes[3:]], 2.0)  # 20, 21, staged
    found = recent.lookup([9, 10, 11, 12, 13, 20, 21, 22])
    assert [f.item.envelope if f else None for f in found] == [
        None,
        *envelopes[:3],
        None,
        *envelopes[3:],
        None,
    ]
    without = Outgoing("s", None, b"{}", "k")  # an outbox row: no envelope to hand out
    recent.stage_published(30, [without], 3.0)
    assert recent.get(30) is None


def test_recent_messages_forget_beyond_their_byte_budget():
    recent = RecentMessages(size=10, budget=250)
    for seq in range(1, 4):
        recent.stage_published(seq, [_item(envelope(seq))], 1.0)
    recent.committed()
    assert [recent.get(seq) is not None for seq in (1, 2, 3)] == [False, True, True]
    assert len(recent) == 2


def test_insert_messages_stage_what_they_store_for_local_consumers(conn):
    recent = RecentMessages()
    e = envelope(1)
    item = prepare(e, None, None, 10_000)
    insert_messages(conn, [item, item], dedupe_window=60, max_messages=None, recent=recent)
    recent.committed()
    kept = recent.get(1)
    assert kept is not None
    message = kept.message()
    assert (message.envelope, message.subject, message.key) == (e, item.subject, item.key)
    assert recent.get(2) is None  # the repeat was not stored


def test_inserts_keep_order_and_give_each_row_its_own_body(conn):
    items = [
        Outgoing(
            subject=f"s.{n}",
            key=None if n % 3 else f"K{n}",
            body=b"x" * (n % 7 + 1) + b"%d" % n,
            idempotency_key=str(n),
        )
        for n in range(700)
    ]
    acks = insert_messages(conn, items, dedupe_window=60, max_messages=None)
    assert [a.sequence for a in acks] == list(range(1, 701))
    rows = conn.execute("SELECT seq, subject, pkey, body, typeof(body) FROM messages ORDER BY seq").fetchall()
    assert rows == [(n + 1, i.subject, i.key, i.body, "blob") for n, i in enumerate(items)]


def test_attempt_history_round_trips():
    history = [(1, 1.5, "timed out"), (2, 3.0, 'said "no"')]
    assert load_history(dump_history(history)) == history


def test_a_newer_schema_version_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    conn.execute("PRAGMA user_version = 99")
    with pytest.raises(BusError, match="schema version 99"):
        schema.create_schema(conn)
    conn.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "Not A Type"}, "type"),
        ({"classification": "BOGUS"}, "classification"),
        ({"time": "yesterday"}, "time"),
        ({"traceparent": "zz"}, "traceparent"),
        ({"specversion": "2.0"}, "specversion"),
    ],
)
def test_prepare_refuses_an_envelope_a_copy_made_invalid(change: dict[str, object], field: str):
    good = Envelope(source="/tests", type="custody.detainee.released", data={"n": 1})
    # pydantic warns when it serialises a string where a datetime belongs
    warns = pytest.warns(UserWarning, match="serializ") if field == "time" else contextlib.nullcontext()
    with warns, pytest.raises(PublishRefused, match=field):
        prepare(good.model_copy(update=change), "custody.detainee.released", None, 1 << 20)


def test_prepare_stores_exactly_the_envelopes_own_json():
    event = Envelope(
        source="/tests", type="custody.detainee.released", partitionkey="K1", data={"n": 1, "note": None}
    )
    prepared = prepare(event, None, None, 1 << 20)
    assert prepared.body == event.to_json()
    assert Envelope.from_json(prepared.body) == event


def test_an_envelope_from_a_validating_path_is_not_checked_again_but_its_copies_are():
    parsed = Envelope.from_json(envelope(1).to_json())
    derived = parsed.caused(source="/tests/router", type="custody.detainee.released")
    assert is_validated(parsed)
    assert is_validated(derived)
    # A copy or a construct is a new object, unmarked, and checked in full at publish.
    forged = [
        derived.model_copy(update={"type": "Not A Type"}),
        Envelope.model_construct(**{**derived.model_dump(), "type": "Not A Type"}),
    ]
    for bad in forged:
        assert not is_validated(bad)
        with pytest.raises(PublishRefused, match="type"):
            prepare(bad, "custody.detainee.released", None, 1 << 20)


def test_an_envelope_checked_at_publish_is_marked_for_the_next_publish():
    fresh = envelope(2)
    assert not is_validated(fresh)
    prepare(fresh, None, None, 1 << 20)
    assert is_validated(fresh)
    assert not is_validated(fresh.model_copy())
