"""An officer's device (tablet or in-vehicle app) as a client of the hub: checks, dispatches, status.

The hub's device endpoints are configuration (``DevicePaths``), so the same
client drives whatever the hub serves::

    device = OfficerDevice("http://127.0.0.1:8080", device_id="IVMA-CX21", call_sign="CX21",
                           officer_id="PC4471")
    answer = await device.person_check(surname="OKAFOR", date_of_birth="1994-03-17", reason="2")
    async for dispatch in device.dispatches():      # Server-Sent Events, reconnecting
        await device.respond(dispatch)              # ENROUTE, ONSCENE, CLEARED, in order

Status updates carry a per-incident ``sequence`` so the far end can refuse
one that arrives out of order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True, slots=True)
class DevicePaths:
    """Where the hub serves each device call; ``{device}`` and ``{incident}`` are filled in."""

    person_check: str = "/api/checks/person"
    vehicle_check: str = "/api/checks/vehicle"
    dispatches: str = "/api/devices/{device}/dispatches"
    status: str = "/api/incidents/{incident}/status"


@dataclass(frozen=True, slots=True)
class Dispatch:
    """An incident sent to this device."""

    incident: str
    event_id: str | None
    data: dict[str, Any] = field(default_factory=dict)


class DeviceError(Exception):
    """The hub refused a device call; ``status`` and ``detail`` say why."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str, str | None]]:
    """``(event, data, id)`` for each Server-Sent Event in ``lines``."""
    event, event_id = "message", None
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data), event_id
            event, data = "message", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            event_id = value


class OfficerDevice:
    """A device's calls to the hub."""

    RESPONSE = ("ENROUTE", "ONSCENE", "CLEARED")

    def __init__(
        self,
        hub_url: str,
        *,
        device_id: str,
        call_sign: str,
        officer_id: str,
        paths: DevicePaths | None = None,
        token: str | None = None,
        client: httpx.AsyncClient | None = None,
        reconnect_delay: float = 0.5,
        last_event_id: str | None = None,
    ) -> None:
        self.device_id, self.call_sign, self.officer_id = device_id, call_sign, officer_id
        self.paths = paths or DevicePaths()
        self.reconnect_delay = reconnect_delay
        headers = {"X-Device-Id": device_id, "X-Officer-Id": officer_id}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = client or httpx.AsyncClient(base_url=hub_url, headers=headers, timeout=10.0)
        self._sequences: dict[str, int] = {}
        self._last_event_id = last_event_id
        self.sent: list[dict[str, Any]] = []

    @property
    def last_event_id(self) -> str | None:
        """The id of the last event seen on the dispatch stream (sent as ``Last-Event-ID`` on reconnect)."""
        return self._last_event_id

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._client.post(path, json=body)
        if response.is_error:
            raise DeviceError(response.status_code, response.text[:500])
        return response.json() if response.content else {}

    async def person_check(
        self,
        *,
        reason: str,
        surname: str | None = None,
        forename: str | None = None,
        date_of_birth: str | None = None,
        pnc_id: str | None = None,
    ) -> dict[str, Any]:
        """Check a person by name and date of birth, or PNC ID, giving the reason for the check."""
        query = {"surname": surname, "forename": forename, "dateOfBirth": date_of_birth, "pncId": pnc_id}
        body = {k: v for k, v in query.items() if v}
        return await self._post(
            self.paths.person_check, {**body, "reason": reason, "officer": self.officer_id}
        )

    async def vehicle_check(self, vrm: str, *, reason: str) -> dict[str, Any]:
        """Check a vehicle by registration."""
        return await self._post(
            self.paths.vehicle_check, {"vrm": vrm, "reason": reason, "officer": self.officer_id}
        )

    async def send_status(self, incident: str, status: str) -> dict[str, Any]:
        """Send this unit's status for ``incident`` with the next per-incident sequence number."""
        sequence = self._sequences.get(incident, 0) + 1
        self._sequences[incident] = sequence
        body = {"callSign": self.call_sign, "status": status, "sequence": sequence}
        self.sent.append({"incident": incident, **body})
        return await self._post(self.paths.status.format(incident=incident, device=self.device_id), body)

    async def dispatches(self, *, reconnect: bool = True) -> AsyncIterator[Dispatch]:
        """Dispatches pushed by the hub (SSE ``event: dispatch``), resuming with ``Last-Event-ID``."""
        path = self.paths.dispatches.format(device=self.device_id)
        while True:
            headers = {"Accept": "text/event-stream"}
            if self._last_event_id:
                headers["Last-Event-ID"] = self._last_event_id
            try:
                async with self._client.stream("GET", path, headers=headers, timeout=None) as response:
                    if response.is_error:
                        raise DeviceError(response.status_code, "the dispatch stream was refused")
                    async for event, data, event_id in parse_sse(response.aiter_lines()):
                        if event_id:
                            self._last_event_id = event_id
                        if event != "dispatch":
                            continue
                        payload = json.loads(data)
                        incident = payload.get("incidentNumber") or payload.get("incident") or ""
                        yield Dispatch(incident=str(incident), event_id=event_id, data=payload)
            except httpx.TransportError:
                if not reconnect:
                    raise
            if not reconnect:
                return
            await asyncio.sleep(self.reconnect_delay)

    async def respond(self, dispatch: Dispatch, *, pause: float = 0.0) -> list[dict[str, Any]]:
        """Attend ``dispatch``: en route, on scene, cleared, ``pause`` seconds apart."""
        answers = []
        for status in self.RESPONSE:
            answers.append(await self.send_status(dispatch.incident, status))
            if pause:
                await asyncio.sleep(pause)
        return answers

    async def run(self, *, max_dispatches: int | None = None, pause: float = 0.0) -> list[Dispatch]:
        """Take dispatches and attend each, until ``max_dispatches`` have been handled."""
        handled: list[Dispatch] = []
        async for dispatch in self.dispatches():
            await self.respond(dispatch, pause=pause)
            handled.append(dispatch)
            if max_dispatches is not None and len(handled) >= max_dispatches:
                break
        return handled
