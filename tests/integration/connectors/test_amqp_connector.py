"""The AMQP connector against the real RabbitMQ: ack after ingest, redelivery after a crash, confirms."""

from __future__ import annotations

import asyncio
import json

import pytest
from contract_harness import AmqpHarness, RecordingIngest, a_record, outbound_message

from polestar.connectors.amqp import AmqpOutboundConfig
from polestar.errors import DeliveryRefused

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
async def amqp(unique, tmp_path):
    async with AmqpHarness(unique, tmp_path) as harness:
        yield harness


async def test_a_message_unacked_when_the_hub_crashes_is_delivered_again(amqp, unique):
    crashing = RecordingIngest(hold=asyncio.Event())  # never answers: the hub dies mid-ingest
    first = amqp.inbound()
    await first.start(crashing)
    await amqp.send(json.dumps(a_record(unique)).encode(), message_id=f"msg-{unique}")
    await crashing.wait_until(lambda: bool(crashing.calls))
    await first.stop()  # the connection closes without an ack

    ingest = RecordingIngest()
    second = amqp.inbound()
    await second.start(ingest)
    try:
        await ingest.wait_until(lambda: bool(ingest.accepted))
        raw, record = ingest.accepted[0]
        assert record == a_record(unique)
        assert raw.reference == f"msg-{unique}"
        assert raw.headers["amqp-redelivered"] == "true"
        assert raw.headers["amqp-routing-key"] == "records.custody"
    finally:
        await second.stop()
    assert await amqp.channel.declare_queue(f"{unique}.in", passive=True) is not None
    queue = await amqp.channel.get_queue(f"{unique}.in")
    assert await queue.get(fail=False) is None  # acked: nothing left behind


async def test_quarantined_messages_are_acked_and_not_redelivered(amqp, unique):
    ingest = RecordingIngest()
    connector = amqp.inbound()
    await connector.start(ingest)
    try:
        await amqp.send(b"<not-json/>")
        await ingest.wait_until(lambda: bool(ingest.quarantined))
        await asyncio.sleep(0.5)
        assert len(ingest.calls) == 1
    finally:
        await connector.stop()
    queue = await amqp.channel.get_queue(f"{unique}.in")
    assert await queue.get(fail=False) is None


async def test_an_unroutable_message_is_refused(amqp, unique):
    connector = amqp.outbound(routing_key=f"{unique}.nobody-listens")
    await connector.start()
    try:
        with pytest.raises(DeliveryRefused, match="unroutable"):
            await connector.deliver(outbound_message(a_record(unique)))
    finally:
        await connector.stop()


async def test_messages_are_persistent_and_carry_the_event_id(amqp, unique):
    connector = amqp.outbound()
    await connector.start()
    message = outbound_message(a_record(unique))
    try:
        await connector.deliver(message)
    finally:
        await connector.stop()
    received = await amqp.out_queue.get(timeout=5)
    await received.ack()
    assert received.message_id == message.envelope.id
    assert received.delivery_mode == 2
    assert received.content_type == "application/json"
    assert received.type == "contract.record.sent"


async def test_a_missing_exchange_is_refused(amqp, unique):
    connector = amqp.outbound(exchange=f"{unique}.missing")
    await connector.start()
    try:
        with pytest.raises(DeliveryRefused, match="NOT_FOUND - no exchange"):
            await connector.deliver(outbound_message(a_record(unique)))
    finally:
        await connector.stop()


def test_a_password_in_the_url_is_refused_by_the_config():
    with pytest.raises(ValueError, match="password_env"):
        AmqpOutboundConfig(url="amqp://guest:guest@127.0.0.1/")
