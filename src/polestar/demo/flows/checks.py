"""Flow 1, checks from the street: an officer's device checks people and vehicles on PNC through the hub.

An officer device (``OfficerDevice``) asks the hub ``count`` person checks and
``count`` vehicle checks about people and vehicles the shared world knows,
wanted and missing people and stolen vehicles among them. The hub asks the PNC
simulator over SOAP (``connectors/pnc.yaml``, ``devices/gateway.yaml``).

Checked at the far end: each answer agrees with the world (a wanted person is
flagged wanted, a missing one missing, a stolen vehicle stolen, the keeper is
the right person) and the PNC simulator logged each enquiry with the officer's
user id and reason (``GET /_sim/enquiries``).
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import httpx

from polestar.demo.contract import FlowOutcome, Force, Progress
from polestar.demo.flows._far_end import FlowError, answer, client
from polestar.security import issue_token
from polestar.sims.device import DeviceError, OfficerDevice
from polestar.sims.synthetic import Person, Vehicle, World

OFFICER = "PC4471"
DEVICE = "TAB-0042"
PERSON_REASON = "2"
VEHICLE_REASON = "3"
OFFICER_CLEARANCE = "OFFICIAL-SENSITIVE [PERSONAL]"


async def officer_token(force: Force, officer: str, device: str) -> str | None:
    """A token for ``officer`` signed in on ``device`` (role officer), or None when the hub asks none.

    The hub takes the officer and the device from the token, and lets a device read only its
    own dispatches, so each device in a flow carries its own officer's token.
    """
    if force.token is None:
        return None
    return await asyncio.to_thread(
        issue_token,
        force.config,
        subject=f"user:{officer}",
        roles=["officer"],
        clearance=OFFICER_CLEARANCE,
        ttl=min(3600, force.config.security.max_token_ttl),
        device=device,
    )


def pick_people(world: World, count: int, *, seed: int = 1) -> list[Person]:
    """``count`` people known to PNC, wanted and missing ones first among them when there are any."""
    rng = random.Random(seed)  # noqa: S311 - choosing synthetic test subjects
    known = world.known_to_police
    marked = [p for p in known if p.markers]
    plain = [p for p in known if not p.markers]
    chosen = rng.sample(marked, min(len(marked), max(1, count // 3))) if count else []
    chosen += rng.sample(plain, min(len(plain), count - len(chosen)))
    return chosen[:count]


def pick_vehicles(world: World, count: int, *, seed: int = 1) -> list[Vehicle]:
    """``count`` vehicles, stolen ones first among them when there are any."""
    rng = random.Random(seed)  # noqa: S311 - choosing synthetic test subjects
    stolen = [v for v in world.vehicles if v.stolen_since]
    plain = [v for v in world.vehicles if not v.stolen_since]
    chosen = rng.sample(stolen, min(len(stolen), max(1, count // 3))) if count else []
    chosen += rng.sample(plain, min(len(plain), count - len(chosen)))
    return chosen[:count]


def person_problems(person: Person, found: dict[str, Any]) -> list[str]:
    """How a person check's answer disagrees with the world (empty: it agrees)."""
    matches = [p for p in found.get("people", []) if p.get("pnc_id") == person.pnc_id]
    if not matches:
        return [f"person check for {person.pnc_id}: the answer does not include them"]
    record = matches[0]
    problems = []
    wanted = any(m.kind == "wanted" for m in person.markers)
    missing = any(m.kind == "missing" for m in person.markers)
    if bool(record.get("wanted")) != wanted:
        problems.append(f"person check for {person.pnc_id}: wanted should be {wanted}")
    if bool(record.get("missing")) != missing:
        problems.append(f"person check for {person.pnc_id}: missing should be {missing}")
    codes = sorted(w.get("code") for w in record.get("warnings", []))
    if codes != sorted(person.warnings):
        problems.append(
            f"person check for {person.pnc_id}: warnings {codes} should be {sorted(person.warnings)}"
        )
    if wanted and not found.get("wanted"):
        problems.append(f"person check for {person.pnc_id}: the answer is not flagged wanted")
    return problems


def vehicle_problems(world: World, vehicle: Vehicle, found: dict[str, Any]) -> list[str]:
    """How a vehicle check's answer disagrees with the world (empty: it agrees)."""
    record = found.get("vehicle")
    if not record:
        return [f"vehicle check for {vehicle.vrm}: no vehicle in the answer"]
    problems = []
    stolen = vehicle.stolen_since is not None
    if bool(found.get("stolen")) != stolen or bool(record.get("stolen")) != stolen:
        problems.append(f"vehicle check for {vehicle.vrm}: stolen should be {stolen}")
    keeper = world.people_by_id[vehicle.keeper_id]
    got = record.get("keeper") or {}
    if (got.get("surname") or "").upper() != keeper.family.upper() or got.get(
        "date_of_birth"
    ) != keeper.date_of_birth.isoformat():
        problems.append(
            f"vehicle check for {vehicle.vrm}: keeper {got.get('surname')} {got.get('date_of_birth')} "
            f"should be {keeper.family.upper()} {keeper.date_of_birth.isoformat()}"
        )
    return problems


class ChecksFlow:
    """Flow 1: person and vehicle checks from a device, answered from PNC through the hub."""

    number = 1
    title = "Checks from the street"

    async def run(self, force: Force, *, count: int, progress: Progress) -> FlowOutcome:
        """Make ``count`` person and ``count`` vehicle checks and check every answer against the world."""
        outcome = FlowOutcome(self.number, self.title)
        device = OfficerDevice(
            force.hub_url,
            device_id=DEVICE,
            call_sign="CX21",
            officer_id=OFFICER,
            token=await officer_token(force, OFFICER, DEVICE),
        )
        try:
            async with client() as http:
                await self._run(
                    force, device=device, http=http, count=count, progress=progress, outcome=outcome
                )
        except FlowError as exc:
            outcome.failures += 1
            outcome.problems.append(str(exc))
        finally:
            await device.aclose()
        return outcome

    async def _run(
        self,
        force: Force,
        *,
        device: OfficerDevice,
        http: httpx.AsyncClient,
        count: int,
        progress: Progress,
        outcome: FlowOutcome,
    ) -> None:
        transactions: set[str] = set()
        for person in pick_people(force.world, count):
            started = time.perf_counter()
            try:
                found = await device.person_check(pnc_id=person.pnc_id, reason=PERSON_REASON)
            except (DeviceError, httpx.HTTPError) as exc:
                outcome.failures += 1
                outcome.problems.append(f"person check for {person.pnc_id}: {exc}")
                continue
            elapsed = (time.perf_counter() - started) * 1000.0
            self._settle(outcome, person_problems(person, found), elapsed, found, transactions)
            flags = ", ".join(k.upper() for k in ("wanted", "missing") if found.get(k)) or "no markers"
            progress(f"device → hub → PNC: person {person.pnc_id}: {flags} ({elapsed:.0f} ms)")
        for vehicle in pick_vehicles(force.world, count):
            started = time.perf_counter()
            try:
                found = await device.vehicle_check(vehicle.vrm, reason=VEHICLE_REASON)
            except (DeviceError, httpx.HTTPError) as exc:
                outcome.failures += 1
                outcome.problems.append(f"vehicle check for {vehicle.vrm}: {exc}")
                continue
            elapsed = (time.perf_counter() - started) * 1000.0
            self._settle(outcome, vehicle_problems(force.world, vehicle, found), elapsed, found, transactions)
            flag = "STOLEN" if found.get("stolen") else "not stolen"
            progress(f"device → hub → PNC: vehicle {vehicle.vrm}: {flag} ({elapsed:.0f} ms)")
        await self._logged_on_pnc(force, http, transactions, outcome)

    @staticmethod
    def _settle(
        outcome: FlowOutcome,
        problems: list[str],
        elapsed: float,
        found: dict[str, Any],
        transactions: set[str],
    ) -> None:
        if problems:
            outcome.failures += 1
            outcome.problems.extend(problems)
            return
        outcome.messages += 1
        outcome.latencies_ms.append(elapsed)
        if found.get("transaction"):
            transactions.add(str(found["transaction"]))

    @staticmethod
    async def _logged_on_pnc(
        force: Force, http: httpx.AsyncClient, transactions: set[str], outcome: FlowOutcome
    ) -> None:
        logged = await answer(
            http.get(f"{force.sims['pnc']}/_sim/enquiries"), "reading the PNC's enquiry log"
        )
        seen: dict[str, dict[str, Any]] = {}
        for entry in logged.get("enquiries", []):
            detail = entry.get("detail") or {}
            if detail.get("transaction_id"):
                seen[str(detail["transaction_id"])] = detail
        for transaction in sorted(transactions):
            detail = seen.get(transaction)
            if detail is None:
                outcome.failures += 1
                outcome.problems.append(f"PNC has no log of enquiry {transaction}")
            elif detail.get("user") != OFFICER or detail.get("reason") not in {PERSON_REASON, VEHICLE_REASON}:
                outcome.failures += 1
                outcome.problems.append(
                    f"PNC logged enquiry {transaction} as user {detail.get('user')!r} reason "
                    f"{detail.get('reason')!r}, not {OFFICER!r} with the reason given"
                )
        outcome.notes.append(f"PNC logged all {len(transactions)} enquiries with the officer and reason")
