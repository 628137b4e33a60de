"""Flow 2, dispatch to the car: CAD's incidents reach the assigned unit's device; its status goes back.

CAD (the simulator) takes ``count`` calls, grades each and assigns a free
unit, posting every change to the hub (``POST /ingest/cad``). One in-vehicle
device per CAD unit listens to the hub's dispatch stream (Server-Sent Events)
and, for each incident it is sent, reports en route, on scene and cleared
with per-incident sequence numbers; the hub publishes each status and its
``cad-unit-status`` route delivers it to CAD, in order per incident.

Checked at the far end: every incident reached the device of the unit CAD
assigned (and no other), and CAD holds that unit's ENROUTE, ONSCENE, CLEARED
in that order. Latency is from the call reaching CAD to CAD holding CLEARED:
the whole two-way trip; the dispatch leg alone is in the notes.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from polestar.demo.contract import FlowOutcome, Force, Progress
from polestar.demo.flows._far_end import (
    POLL_SECONDS,
    DeadLetterWatch,
    FlowError,
    answer,
    cad_sends_to_hub,
    client,
    report_dead_letters,
)
from polestar.demo.flows.checks import officer_token
from polestar.sims.device import DeviceError, Dispatch, OfficerDevice

ROUTES = ("cad-unit-status",)
"""The hub's route this flow goes through (examples/force/integration/routes/cad.yaml)."""
EXPECTED = ["ENROUTE", "ONSCENE", "CLEARED"]


def device_of(call_sign: str) -> str:
    """The id of the in-vehicle device riding with ``call_sign``."""
    return f"IVMA-{call_sign}"


@dataclass(slots=True)
class _Run:
    received: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Incident to (call sign of the device that got it, when)."""
    wrong: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class DispatchFlow:
    """Flow 2: incidents from CAD to the unit's device, and the unit's status back to CAD in order."""

    number = 2
    title = "Dispatch to the car"

    def __init__(self, *, timeout: float = 30.0, pause: float = 0.0) -> None:
        self.timeout = timeout
        """Seconds to wait for each incident's round trip before counting it as failed."""
        self.pause = pause
        """Seconds a device waits between its status updates."""

    async def run(self, force: Force, *, count: int, progress: Progress) -> FlowOutcome:
        """Have CAD create and assign ``count`` incidents and follow each to CLEARED."""
        outcome = FlowOutcome(self.number, self.title)
        try:
            async with client() as http:
                await self._run(force, http, count, progress, outcome)
        except FlowError as exc:
            outcome.failures += 1
            outcome.problems.append(str(exc))
        return outcome

    async def _run(
        self, force: Force, http: httpx.AsyncClient, count: int, progress: Progress, outcome: FlowOutcome
    ) -> None:
        cad = force.sims["cad"]
        dead = DeadLetterWatch(force, http, ROUTES)
        await dead.start()
        await cad_sends_to_hub(http, force)
        units = [
            u["callSign"] for u in (await answer(http.get(f"{cad}/units"), "listing CAD's units"))["units"]
        ]
        position = await _feed_position(force, http, device_of(units[0]))
        run = _Run()
        devices = [
            OfficerDevice(
                force.hub_url,
                device_id=device_of(sign),
                call_sign=sign,
                officer_id=f"PC{4400 + n}",
                token=await officer_token(force, f"PC{4400 + n}", device_of(sign)),
                reconnect_delay=0.2,
                last_event_id=str(position),
            )
            for n, sign in enumerate(units)
        ]
        tasks = [asyncio.create_task(self._attend(d, run, progress)) for d in devices]
        dispatch_ms: list[float] = []
        try:
            for number in range(count):
                await self._one(
                    force,
                    http=http,
                    number=number,
                    run=run,
                    progress=progress,
                    outcome=outcome,
                    dispatch_ms=dispatch_ms,
                )
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for device in devices:
                await device.aclose()
        outcome.problems.extend(run.wrong + run.errors)
        outcome.failures += len(run.wrong) + len(run.errors)
        if dispatch_ms:
            outcome.notes.append(
                f"dispatch leg (CAD → hub → device over SSE): p50 {statistics.median(dispatch_ms):.0f} ms"
            )
        report_dead_letters(outcome, await dead.new())

    async def _one(
        self,
        force: Force,
        *,
        http: httpx.AsyncClient,
        number: int,
        run: _Run,
        progress: Progress,
        outcome: FlowOutcome,
        dispatch_ms: list[float],
    ) -> None:
        cad = force.sims["cad"]
        await _free_unit(http, cad, self.timeout)
        place = force.world.places[number % len(force.world.places)]
        started = time.monotonic()
        incident = await answer(
            http.post(
                f"{cad}/calls",
                json={
                    "description": f"fight outside {place.name}, two males",
                    "location": {"premises": place.name, "postcode": place.address.postcode},
                },
            ),
            "making a call in CAD",
            expect=(201,),
        )
        number_ = incident["incidentNumber"]
        assigned = [u["callSign"] for u in incident["units"] if u["assigned"]]
        if not assigned:
            outcome.failures += 1
            outcome.problems.append(f"CAD assigned no unit to {number_}")
            return
        progress(f"CAD → hub → {device_of(assigned[0])}: {number_} dispatched")
        deadline = started + self.timeout
        statuses: list[str] = []
        while time.monotonic() < deadline:
            held = await answer(http.get(f"{cad}/incidents/{number_}"), f"reading {number_} in CAD")
            statuses = [
                s["status"]
                for s in held["statusLog"]
                if s.get("callSign") == assigned[0] and s["status"] != "ASSIGNED"
            ]
            if statuses[-1:] == ["CLEARED"]:
                break
            await asyncio.sleep(POLL_SECONDS)
        elapsed = (time.monotonic() - started) * 1000.0
        got = run.received.get(number_)
        problems = []
        if got is None:
            problems.append(f"{number_} never reached {device_of(assigned[0])}")
        elif got[0] != assigned[0]:
            problems.append(f"{number_} reached {got[0]}'s device, but CAD assigned {assigned[0]}")
        else:
            dispatch_ms.append((got[1] - started) * 1000.0)
        if statuses != EXPECTED:
            problems.append(f"CAD holds {statuses} for {assigned[0]} on {number_}, expected {EXPECTED}")
        if problems:
            outcome.failures += 1
            outcome.problems.extend(problems)
            return
        outcome.messages += 1
        outcome.latencies_ms.append(elapsed)
        progress(f"{assigned[0]} → hub → CAD: {number_} en route, on scene, cleared ({elapsed:.0f} ms)")

    async def _attend(self, device: OfficerDevice, run: _Run, progress: Progress) -> None:
        """Take this device's dispatches and attend each once, reconnecting when refused."""
        while True:
            try:
                async for dispatch in device.dispatches():
                    await self._respond(device, dispatch, run, progress)
            except DeviceError as exc:
                if exc.status not in {503, 502}:
                    run.errors.append(f"{device.device_id}: {exc}")
                    return
                await asyncio.sleep(0.2)

    async def _respond(
        self, device: OfficerDevice, dispatch: Dispatch, run: _Run, progress: Progress
    ) -> None:
        if dispatch.incident in run.received:
            return  # a repeat after a reconnect: already attended
        run.received[dispatch.incident] = (device.call_sign, time.monotonic())
        if device.call_sign not in dispatch.data.get("assignedUnits", []):
            run.wrong.append(f"{device.device_id} was sent {dispatch.incident}, not assigned to it")
            return
        try:
            await device.respond(dispatch, pause=self.pause)
        except (DeviceError, httpx.HTTPError) as exc:
            run.errors.append(f"{device.device_id} status for {dispatch.incident}: {exc}")


async def _feed_position(force: Force, http: httpx.AsyncClient, device: str) -> int:
    """The bus sequence the hub's dispatch feed has reached: devices resume from there."""
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        state: dict[str, Any] = await answer(
            http.get(f"{force.hub_url}/api/devices/{device}", headers=force.hub_headers()),
            "asking the hub's device gateway where its dispatch feed is",
        )
        if state.get("position") is not None:
            return int(state["position"])
        await asyncio.sleep(POLL_SECONDS)
    raise FlowError("the hub's dispatch feed did not start reading the bus within 10 s")


async def _free_unit(http: httpx.AsyncClient, cad: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        units = (await answer(http.get(f"{cad}/units"), "listing CAD's units"))["units"]
        if any(u["incident"] is None for u in units):
            return
        await asyncio.sleep(POLL_SECONDS)
    raise FlowError(f"no CAD unit came free within {timeout:.0f} s (their status is not reaching CAD)")
