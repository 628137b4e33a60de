"""The outbound contract, run against every connector kind with its real counterpart."""

from __future__ import annotations

import asyncio

import pytest
from contract_harness import HARNESSES, Harness, a_record, kind_params, outbound_message

from polestar.connectors.contract import DeliveryReceipt
from polestar.errors import DeliveryFailed


@pytest.fixture(params=kind_params())
async def harness(request, unique, tmp_path):
    async with HARNESSES[request.param](unique, tmp_path) as kind:
        yield kind


async def test_outbound_delivers_a_message_that_arrives_intact(harness: Harness, unique):
    connector = harness.outbound()
    await connector.start()
    try:
        record = a_record(unique)
        receipt = await asyncio.wait_for(connector.deliver(outbound_message(record)), 20)
        assert isinstance(receipt, DeliveryReceipt)
        assert record in await harness.received(1)
    finally:
        await connector.stop()


async def test_outbound_delivers_several_messages_each_once(harness: Harness, unique):
    connector = harness.outbound()
    await connector.start()
    try:
        records = [a_record(f"{unique}-{n}") for n in range(3)]
        await asyncio.wait_for(asyncio.gather(*(connector.deliver(outbound_message(r)) for r in records)), 20)
        received = await harness.received(3)
        assert sorted(r["ref"] for r in received) == sorted(r["ref"] for r in records)
    finally:
        await connector.stop()


async def test_outbound_to_an_unavailable_counterpart_fails_for_now_and_does_not_hang(
    harness: Harness, unique
):
    connector = await harness.unavailable_outbound()
    try:
        async with asyncio.timeout(20):
            with pytest.raises(DeliveryFailed) as failure:
                await connector.deliver(outbound_message(a_record(unique)))
        assert failure.value.reason
    finally:
        await connector.stop()


async def test_outbound_stop_is_clean_and_idempotent(harness: Harness, unique):
    never_started = harness.outbound()
    await never_started.stop()

    connector = harness.outbound()
    await connector.start()
    await connector.deliver(outbound_message(a_record(unique)))
    await connector.stop()
    await connector.stop()
