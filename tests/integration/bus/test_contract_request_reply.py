"""Contract: request/reply answers, or fails cleanly within its timeout."""

from __future__ import annotations

import asyncio
import time

import pytest
from _bus_helpers import event

from polestar.errors import NoResponders, RequestTimeout
from polestar.model.envelope import Envelope


async def test_a_request_gets_its_reply_tied_to_it(engine):
    async def pnc(request: Envelope) -> Envelope:
        return request.caused(source="/sims/pnc", type="pnc.person.checked", data={"wanted": False})

    responder = await engine.serve("pnc.person.queried", pnc)
    request = event(1, kind="pnc.person.queried")
    reply = await engine.request(request, timeout=5)
    assert reply.type == "pnc.person.checked"
    assert reply.causationid == request.id
    assert reply.data == {"wanted": False}
    await responder.close()


async def test_a_request_nobody_serves_fails_cleanly_within_its_timeout(engine):
    started = time.monotonic()
    with pytest.raises((NoResponders, RequestTimeout)):
        await engine.request(event(1, kind="pnc.vehicle.queried"), timeout=1.0)
    assert time.monotonic() - started < 3.0


async def test_a_slow_responder_times_out(engine):
    async def slow(request: Envelope) -> Envelope:
        await asyncio.sleep(3)
        return request

    responder = await engine.serve("pnc.person.queried", slow)
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        await engine.request(event(1, kind="pnc.person.queried"), timeout=0.5)
    assert time.monotonic() - started < 2.5
    await responder.close()
