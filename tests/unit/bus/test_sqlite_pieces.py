from __future__ import annotations

import contextlib
import sqlite3

import pytest

from polestar.bus.config import SqliteSynchronous
from polestar.bus.sqlite import schema
from polestar.bus.sqlite.core import RecentEnvelopes
from polestar.bus.sqlite.publishing import insert_messages, prepare
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


def test_recent_envelopes_hand_back_the_published_object_and_forget_the_oldest():
    recent = RecentEnvelopes(size=2)
    envelopes = [envelope(n) for n in range(3)]
    for seq, e in enumerate(envelopes, start=1):
        recent.add(seq, e)
    stored = [
        StoredMessage(seq, "custody.detainee.released", None, e.to_json(), 0.0)
        for seq, e in enumerate(envelopes, 1)
    ]
    assert recent.decode(stored[2]).envelope is envelopes[2]
    assert recent.decode(stored[0]).envelope == envelopes[0]  # forgotten: parsed from the body
    assert recent.decode(stored[0]).envelope is not envelopes[0]


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
