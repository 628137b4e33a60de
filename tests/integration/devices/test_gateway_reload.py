"""``devices/gateway.yaml`` is hot reloaded like connectors, mappings and routes; a bad edit is refused."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from _device_hubs import CheckingHub, bearer, device_token

from polestar.demo.contract import Force
from polestar.demo.flows.checks import officer_token
from polestar.devices.config import DEVICES_FOLDER

pytestmark = pytest.mark.slow


def gateway_file(hub: CheckingHub) -> Path:
    """The running hub's gateway file."""
    folder = hub.app.state.hub.config.integration_dir
    return Path(folder) / DEVICES_FOLDER / "gateway.yaml"


def with_dispatch(original: str, lines: str) -> str:
    """``original`` with ``lines`` added under ``dispatch:``."""
    assert "  dispatch:\n" in original
    return original.replace("  dispatch:\n", f"  dispatch:\n{lines}", 1)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout:.0f} s"
        await asyncio.sleep(0.1)


async def unit_of(hub: CheckingHub, device: str) -> str:
    token = device_token(hub.app.state.hub.config, "PC1", device)
    answer = await hub.client.get(f"/api/devices/{device}", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["callSign"])


async def test_a_changed_gateway_file_applies_without_a_restart(hub: CheckingHub) -> None:
    path = gateway_file(hub)
    original = path.read_text(encoding="utf-8")
    assert await unit_of(hub, "IVMA-CX21") == "CX21"  # told from the device id

    path.write_text(with_dispatch(original, '    call_signs: {"IVMA-CX21": "BX11"}\n'), encoding="utf-8")

    async def rides_with_bx11() -> bool:
        return await unit_of(hub, "IVMA-CX21") == "BX11"

    await eventually(rides_with_bx11, "the new call sign")


async def test_a_bad_gateway_file_is_refused_naming_file_and_field_and_the_last_good_one_runs_on(
    hub: CheckingHub, caplog: pytest.LogCaptureFixture
) -> None:
    path = gateway_file(hub)
    original = path.read_text(encoding="utf-8")
    good = with_dispatch(original, '    call_signs: {"IVMA-CX21": "BX11"}\n')
    path.write_text(good, encoding="utf-8")

    async def rides_with(sign: str) -> bool:
        return await unit_of(hub, "IVMA-CX21") == sign

    await eventually(lambda: rides_with("BX11"), "the good change")
    caplog.set_level(logging.ERROR, logger="polestar.api.device_component")
    path.write_text(good.replace("poll_seconds: 0.1", "poll_seconds: -1"), encoding="utf-8")

    async def refused() -> bool:
        return any("refused" in r.getMessage() for r in caplog.records)

    await eventually(refused, "the refusal")
    (record,) = [r for r in caplog.records if "refused" in r.getMessage()]
    line = next(n for n, text in enumerate(good.splitlines(), start=1) if "poll_seconds" in text)
    assert f"devices/gateway.yaml:{line}:" in record.getMessage()
    assert "devices.dispatch.poll_seconds" in record.getMessage()
    assert "greater than 0" in record.getMessage()
    assert await unit_of(hub, "IVMA-CX21") == "BX11"  # the last good configuration carries on
    ready = await hub.client.get("/ready")
    assert ready.status_code == 200, ready.text

    path.write_text(with_dispatch(original, '    call_signs: {"IVMA-CX21": "LW05"}\n'), encoding="utf-8")
    await eventually(lambda: rides_with("LW05"), "the corrected file")


async def test_a_stream_open_across_a_dispatch_change_ends_and_the_device_resumes(
    gateway_force: Force,
) -> None:
    force = gateway_force
    assert force.config.integration_dir is not None
    path = Path(force.config.integration_dir) / DEVICES_FOLDER / "gateway.yaml"
    token = await officer_token(force, "PC1", "IVMA-CX21")
    feed = f"{force.hub_url}/api/devices/IVMA-CX21/dispatches"
    async with httpx.AsyncClient(timeout=10, headers=bearer(token)) as http:
        async with http.stream("GET", feed) as stream:
            assert stream.status_code == 200
            lines = stream.aiter_lines()
            assert (await anext(lines)).startswith(": dispatches for CX21")
            changed = path.read_text(encoding="utf-8").replace("poll_seconds: 0.1", "poll_seconds: 0.2")
            path.write_text(changed, encoding="utf-8")
            async with asyncio.timeout(15):
                async for _ in lines:  # until the old feed ends the stream
                    pass
        state = (await http.get(f"{force.hub_url}/api/devices/IVMA-CX21")).json()
        async with http.stream("GET", feed, headers={"Last-Event-ID": str(state["position"])}) as again:
            assert again.status_code == 200  # the device reconnects to the new feed
