"""The inbound contract, run against every connector kind that receives, with its real counterpart."""

from __future__ import annotations

import pytest
from contract_harness import HARNESSES, Harness, RecordingIngest, a_record, kind_params


@pytest.fixture(params=kind_params(inbound=True))
async def harness(request, unique, tmp_path):
    async with HARNESSES[request.param](unique, tmp_path) as kind:
        yield kind


async def test_inbound_hands_a_system_message_to_ingest_with_a_reference(harness: Harness, unique):
    ingest = RecordingIngest()
    connector = harness.inbound()
    await connector.start(ingest)
    try:
        record = a_record(unique)
        answer = await harness.send(harness.message(record))
        await ingest.wait_until(lambda: bool(ingest.accepted))
        raw, received = ingest.accepted[0]
        assert received == record
        assert raw.connector == harness.name
        assert raw.reference
        if answer is not None:
            assert answer.status < 300, answer
    finally:
        await connector.stop()


async def test_inbound_bad_input_is_refused_with_a_reason_and_not_lost(harness: Harness, unique):
    ingest = RecordingIngest()
    connector = harness.inbound()
    await connector.start(ingest)
    try:
        bad = harness.bad_message()
        answer = await harness.send(bad)
        reason = await harness.refusal(ingest, answer, bad)
        assert "JSON" in reason or "ref is required" in reason, reason

        # The connector keeps serving after a refusal.
        await harness.send(harness.message(a_record(unique)))
        await ingest.wait_until(lambda: bool(ingest.accepted))
    finally:
        await connector.stop()


async def test_inbound_message_the_hub_cannot_take_now_is_not_lost(harness: Harness, unique):
    ingest = RecordingIngest(fail_next=1)
    connector = harness.inbound()
    await connector.start(ingest)
    try:
        message = harness.message(a_record(unique))
        answer = await harness.send(message)
        if answer is not None:
            # Request/response kinds tell the sender to retry; the sender keeps the message.
            assert answer.status in {500, 503}, answer
            answer = await harness.send(message)
            assert answer is not None
            assert answer.status < 300, answer
        await ingest.wait_until(lambda: bool(ingest.accepted))
        assert len(ingest.calls) >= 2
        assert ingest.accepted[0][1] == a_record(unique)
    finally:
        await connector.stop()


async def test_inbound_stop_is_clean_and_idempotent(harness: Harness):
    never_started = harness.inbound()
    await never_started.stop()

    connector = harness.inbound()
    await connector.start(RecordingIngest())
    await connector.stop()
    await connector.stop()
