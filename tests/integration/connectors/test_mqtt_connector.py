"""The MQTT connector against the real Mosquitto: persistent session, PUBACK only after ingest."""

from __future__ import annotations

import asyncio
import json

import pytest
from contract_harness import MqttHarness, RecordingIngest, a_record, outbound_message

from polestar.errors import DeliveryRefused

pytestmark = pytest.mark.mqtt


@pytest.fixture
async def mqtt(unique, tmp_path):
    async with MqttHarness(unique, tmp_path) as harness:
        yield harness


async def test_messages_sent_while_the_hub_is_down_arrive_when_it_is_back(mqtt, unique):
    first = mqtt.inbound()
    await first.start(RecordingIngest())  # creates the persistent session and its subscription
    await first.stop()

    for n in range(3):
        await mqtt.send(json.dumps(a_record(f"{unique}-{n}")).encode())

    ingest = RecordingIngest()
    back = mqtt.inbound()
    await back.start(ingest)
    try:
        await ingest.wait_until(lambda: len(ingest.accepted) == 3)
        assert [r["ref"] for r in ingest.records()] == [f"REF-{unique}-{n}" for n in range(3)]
    finally:
        await back.stop()


async def test_a_message_unacked_when_the_hub_crashes_is_delivered_again(mqtt, unique):
    crashing = RecordingIngest(hold=asyncio.Event())
    first = mqtt.inbound()
    await first.start(crashing)
    await mqtt.send(json.dumps(a_record(unique)).encode())
    await crashing.wait_until(lambda: bool(crashing.calls))
    await first.stop()  # disconnects without the PUBACK

    ingest = RecordingIngest()
    second = mqtt.inbound()
    await second.start(ingest)
    try:
        await ingest.wait_until(lambda: bool(ingest.accepted))
        assert ingest.accepted[0][0].reference == crashing.calls[0].reference
        assert ingest.accepted[0][0].reference.startswith(f"mqtt:{unique}/in/records:sha256:")
    finally:
        await second.stop()


async def test_publishing_to_a_wildcard_is_refused(mqtt, unique):
    connector = mqtt.outbound()
    await connector.start()
    try:
        with pytest.raises(DeliveryRefused, match="wildcard"):
            await connector.deliver(outbound_message(a_record(unique), target=f"{unique}/out/#"))
    finally:
        await connector.stop()


async def test_a_route_target_chooses_the_topic(mqtt, unique):
    connector = mqtt.outbound()
    await connector.start()
    try:
        await connector.deliver(outbound_message(a_record(unique), target=f"{unique}/out/unit-42"))
    finally:
        await connector.stop()
    assert await mqtt.received(1) == [a_record(unique)]
