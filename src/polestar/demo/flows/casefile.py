"""Flow 7, case file to the prosecutor: acknowledgement, rejection with reasons, and resubmission.

The custody simulator makes ``count`` custody records, and one more whose
officer left the detainee's date of birth blank. The hub's
``case-file-to-prosecutor`` route gathers each record's detainee and arrest
into a case file for the prosecutor gateway. The gateway acknowledges a good
file and accepts it; it refuses the incomplete one on receipt with its
reasons, and the hub dead-letters it with them. The flow then does what the
case officer and an operator would: the custody officer corrects the record
(the custody system exports it again, so the corrected detainee reaches the
hub), and the operator replays the dead-lettered arrest and discards the
superseded detainee; the corrected file goes again and is accepted.

Checked at the far end: the gateway accepted each good file; the incomplete
one was rejected there with the missing date of birth as its reason, and the
same reason is on the hub's dead letters; the resubmission was accepted.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import httpx

from polestar.demo.contract import FlowOutcome, Force, Progress
from polestar.demo.flows._far_end import (
    POLL_SECONDS,
    Arrivals,
    DeadLetterWatch,
    FarEndFlow,
    FlowError,
    answer,
    watch,
)

ROUTES = ("case-file-to-prosecutor",)
"""The hub's route this flow goes through (examples/force/integration/routes/prosecutor.yaml)."""
MISSING_DOB = "has no date of birth"
"""What the gateway says of a defendant without a date of birth."""


def urn_of(custody_no: str) -> str:
    """The case's URN as ``case-file-json`` makes it from the custody record number."""
    return custody_no.replace("/", "")


class CaseFileFlow(FarEndFlow):
    """Flow 7: case files from custody records to the prosecutor gateway, one rejected then resubmitted."""

    number = 7
    title = "Case file to the prosecutor"

    async def _run(
        self, force: Force, http: httpx.AsyncClient, *, count: int, progress: Progress, outcome: FlowOutcome
    ) -> None:
        custody, gateway = force.sims["custody"], force.sims["prosecutor"]
        dead = DeadLetterWatch(force, http, ROUTES)
        await dead.start()
        good = await _generate(http, custody, {"count": count})
        (incomplete,) = await _generate(http, custody, {"count": 1, "omit": ["dob"]})
        accepted = Arrivals({urn_of(no) for no in good})
        progress(f"custody → hub: {len(good)} custody records, and 1 without a date of birth ({incomplete})")

        async def decided_accepted() -> list[str]:
            return [urn for urn in accepted.missing if "ACCEPTED" in await _statuses(http, gateway, urn)]

        await watch(accepted, decided_accepted, timeout=self.timeout)
        progress(f"hub → prosecutor: {len(accepted.seen)}/{len(good)} case files accepted")
        for urn in sorted(accepted.missing):
            outcome.problems.append(f"case file {urn} was not accepted by the prosecutor gateway")
        outcome.failures += len(accepted.missing)
        outcome.messages += len(accepted.seen)
        outcome.latencies_ms += list(accepted.seen.values())

        letters = await self._rejection(http, gateway, dead, incomplete, outcome)
        if letters is None:
            outcome.failures += 1
            return
        progress(f"prosecutor → hub: case file {urn_of(incomplete)} rejected; dead-lettered with the reasons")
        await self._resubmit(force, http, incomplete, letters, outcome=outcome, progress=progress)

    async def _rejection(
        self,
        http: httpx.AsyncClient,
        gateway: str,
        dead: DeadLetterWatch,
        custody_no: str,
        outcome: FlowOutcome,
    ) -> list[dict[str, Any]] | None:
        """The incomplete file's dead letters (its detainee and arrest), once rejected; None if not."""
        urn = urn_of(custody_no)
        deadline = time.monotonic() + self.timeout
        letters: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            letters = [d for d in await dead.new() if MISSING_DOB in d["reason"]]
            if len(letters) >= 2:  # the aggregate's two inputs: the detainee and the arrest
                break
            await _pause()
        versions = await _versions(http, gateway, urn)
        rejected = [v for v in versions if v.get("status") == "REJECTED"]
        if not rejected or not any(MISSING_DOB in r for v in rejected for r in v.get("reasons", [])):
            outcome.problems.append(
                f"case file {urn} without a date of birth was not rejected for it: {versions}"
            )
            return None
        if len(letters) < 2:
            outcome.problems.append(
                f"case file {urn} was rejected, but the hub has {len(letters)} dead letters naming why, not 2"
            )
            return None
        outcome.dead_letters += len(letters)
        outcome.notes.append(
            f"case file {urn} rejected as expected ({'; '.join(rejected[0]['reasons'])}); "
            f"{len(letters)} expected dead letters"
        )
        return letters

    async def _resubmit(
        self,
        force: Force,
        http: httpx.AsyncClient,
        custody_no: str,
        letters: list[dict[str, Any]],
        *,
        outcome: FlowOutcome,
        progress: Progress,
    ) -> None:
        """Correct the record at source, replay the arrest, discard the old detainee; await acceptance."""
        custody, gateway = force.sims["custody"], force.sims["prosecutor"]
        episode = await answer(
            http.get(f"{custody}/episodes/{quote(custody_no, safe='/')}"),
            f"reading custody record {custody_no}",
        )
        person = force.world.people_by_id[episode["world_person"]]
        resubmitted = Arrivals({urn_of(custody_no)})
        await answer(
            http.post(
                f"{custody}/episodes/{quote(custody_no, safe='/')}/correct",
                json={"values": {"dob": person.date_of_birth.strftime("%d/%m/%Y")}},
            ),
            f"correcting custody record {custody_no}",
        )
        for letter in letters:
            action = "replay" if letter["event_type"] == "arrest.recorded" else "discard"
            reason = (
                "detainee's date of birth corrected in custody; case file to go again"
                if action == "replay"
                else "superseded by the corrected custody record"
            )
            await answer(
                http.post(
                    f"{force.hub_url}/bus/dead-letters/{letter['id']}/{action}",
                    json={"reason": reason},
                    headers=force.hub_headers(),
                ),
                f"{action} of dead letter {letter['id']}",
            )
        progress(f"operator: custody record {custody_no} corrected, its arrest replayed")

        async def accepted() -> list[str]:
            return [u for u in resubmitted.missing if "ACCEPTED" in await _statuses(http, gateway, u)]

        await watch(resubmitted, accepted, timeout=self.timeout)
        if resubmitted.missing:
            outcome.failures += 1
            outcome.problems.append(
                f"the corrected case file {urn_of(custody_no)} was not accepted: "
                f"{await _versions(http, gateway, urn_of(custody_no))}"
            )
            return
        outcome.messages += 1
        outcome.latencies_ms += list(resubmitted.seen.values())
        outcome.notes.append(f"corrected case file {urn_of(custody_no)} resubmitted and accepted")
        progress(f"hub → prosecutor: corrected case file {urn_of(custody_no)} accepted")


async def _generate(http: httpx.AsyncClient, custody: str, body: dict[str, Any]) -> list[str]:
    made = await answer(
        http.post(f"{custody}/_sim/generate", json=body),
        "asking the custody simulator for episodes",
        expect=(201,),
    )
    episodes: list[str] = made["episodes"]
    return episodes


async def _versions(http: httpx.AsyncClient, gateway: str, urn: str) -> list[dict[str, Any]]:
    try:
        response = await http.get(f"{gateway}/cases/{urn}")
    except httpx.HTTPError as exc:
        raise FlowError(f"asking the prosecutor gateway for case {urn}: {exc}") from None
    if response.status_code == 404:
        return []
    if response.status_code != 200:
        raise FlowError(f"asking the prosecutor gateway for case {urn}: answered {response.status_code}")
    versions: list[dict[str, Any]] = response.json()["versions"]
    return versions


async def _statuses(http: httpx.AsyncClient, gateway: str, urn: str) -> set[str]:
    return {str(v.get("status")) for v in await _versions(http, gateway, urn)}


async def _pause() -> None:
    await asyncio.sleep(POLL_SECONDS)
