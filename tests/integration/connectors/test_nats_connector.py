"""The NATS connector against the real server: core queue groups, JetStream dedupe and redelivery."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from contract_harness import NatsHarness, RecordingIngest, a_record, outbound_message

from polestar.connectors.nats import JetStreamPull, NatsInboundConfig, NatsOutboundConfig
from polestar.connectors.nats.inbound import NatsInbound
from polestar.connectors.nats.outbound import NatsOutbound
from polestar.errors import ConfigError, DeliveryRefused

pytestmark = pytest.mark.nats


@pytest.fixture
async def harness(unique, tmp_path):
    async with NatsHarness(unique, tmp_path) as kind:
        yield kind


async def test_jetstream_publish_sets_the_event_id_so_a_retried_delivery_is_stored_once(harness, unique):
    connector = harness.outbound()
    await connector.start()
    message = outbound_message(a_record(unique))
    try:
        first = await connector.deliver(message)
        again = await connector.deliver(message)
    finally:
        await connector.stop()
    assert first.response["duplicate"] is False
    assert again.response["duplicate"] is True
    assert first.reference == again.reference == f"{harness.stream}:1"
    info = await harness.js.stream_info(harness.stream)
    assert info.state.messages == 1


async def test_core_subscribers_in_one_queue_group_share_the_messages(harness, nats_url, unique):
    ingests = [RecordingIngest(), RecordingIngest()]
    config = NatsInboundConfig(servers=(nats_url,), subject=f"{unique}.core.>", queue_group="hub")
    hubs = [NatsInbound(f"hub-{n}", config) for n in range(2)]
    for hub, ingest in zip(hubs, ingests, strict=True):
        await hub.start(ingest)
    publisher = NatsOutbound(
        "cad", NatsOutboundConfig(servers=(nats_url,), subject=f"{unique}.core.incidents")
    )
    await publisher.start()
    try:
        for n in range(20):
            await publisher.deliver(outbound_message(a_record(f"{unique}-{n}")))
        total = lambda: sum(len(i.accepted) for i in ingests)  # noqa: E731
        await ingests[0].wait_until(lambda: total() == 20)
        await asyncio.sleep(0.2)
        assert total() == 20  # each message went to one member of the group
        refs = {r["ref"] for i in ingests for r in i.records()}
        assert len(refs) == 20
    finally:
        await publisher.stop()
        for hub in hubs:
            await hub.stop()


async def test_core_message_is_retried_in_process_while_the_hub_cannot_take_it(harness, nats_url, unique):
    ingest = RecordingIngest(fail_next=2)
    config = NatsInboundConfig(servers=(nats_url,), subject=f"{unique}.core", retry_delay=0.1)
    hub = NatsInbound("hub", config)
    await hub.start(ingest)
    try:
        # Core NATS is at most once: a message the server could not hand over (a connection
        # blipped on a loaded machine) is gone, so it is sent again until the hub has seen it.
        # What this test is about starts once the hub has it: two refusals, then acceptance.
        for _ in range(5):
            await harness.nc.publish(f"{unique}.core", json.dumps(a_record(unique)).encode())
            await harness.nc.flush()
            with contextlib.suppress(TimeoutError):
                await ingest.wait_until(lambda: bool(ingest.calls), timeout=3.0)
                break
        await ingest.wait_until(lambda: bool(ingest.accepted))
        first = ingest.calls[0]
        assert first.reference.startswith(f"nats:{unique}.core:sha256:")
        assert ingest.calls[:3] == [first, first, first]  # refused twice, then the same message taken
        assert ingest.accepted[0][0] is ingest.calls[2]
    finally:
        await hub.stop()


async def test_jetstream_message_unacked_by_a_crashed_hub_comes_back(harness, nats_url, unique):
    crashing = RecordingIngest(hold=asyncio.Event())
    pull = JetStreamPull(stream=harness.stream, durable="hub", ack_wait=1, fetch_timeout=0.3)
    config = NatsInboundConfig(servers=(nats_url,), subject=f"{unique}.in.>", jetstream=pull)
    first = NatsInbound("hub", config)
    await first.start(crashing)
    await harness.send(json.dumps(a_record(unique)).encode())
    await crashing.wait_until(lambda: bool(crashing.calls))
    await first.stop()

    ingest = RecordingIngest()
    second = NatsInbound("hub", config)
    await second.start(ingest)
    try:
        await ingest.wait_until(lambda: bool(ingest.accepted))
        assert ingest.accepted[0][0].reference == crashing.calls[0].reference
    finally:
        await second.stop()


async def test_a_missing_stream_is_a_clear_error_at_start(nats_url, unique):
    pull = JetStreamPull(stream=f"{unique}-none".upper(), durable="hub")
    connector = NatsInbound(
        "hub", NatsInboundConfig(servers=(nats_url,), subject=f"{unique}.x", jetstream=pull)
    )
    with pytest.raises(ConfigError, match=r"stream .* not found on nats:"):
        await connector.start(RecordingIngest())
    await connector.stop()


async def test_publishing_without_a_subject_is_refused(nats_url, unique):
    connector = NatsOutbound("x", NatsOutboundConfig(servers=(nats_url,)))
    await connector.start()
    try:
        with pytest.raises(DeliveryRefused, match="no subject"):
            await connector.deliver(outbound_message(a_record(unique)))
    finally:
        await connector.stop()
