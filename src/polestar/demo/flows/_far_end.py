"""What the flows share: waiting for things to arrive at the far end, and the hub's dead letters.

A flow never trusts that what it sent arrived: it watches the receiving
simulator (its records, its ``/_sim`` surface) until everything expected is
there or a deadline passes, and it counts the dead letters the hub's routes
made meanwhile (``GET /bus/dead-letters``), so a message the hub gave up on is
reported with the hub's own reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from polestar.demo.contract import FlowOutcome, Force, Progress

POLL_SECONDS = 0.1
"""How often a flow looks at the far end while waiting."""
REQUEST_TIMEOUT_SECONDS = 10.0
"""The longest any one call to a simulator or the hub may take."""


class FlowError(Exception):
    """A step of a flow could not be taken (a simulator or the hub answered wrongly); says which."""


def client() -> httpx.AsyncClient:
    """An HTTP client for simulators and the hub, with a bounded timeout on every call.

    Idle connections are dropped after 2 s, before uvicorn's 5 s keep-alive closes them at
    the server: with both at 5 s a request can go out on a connection the server is just
    closing, and fail with a bare ``ReadError``.
    """
    return httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS, limits=httpx.Limits(keepalive_expiry=2.0))


class FarEndFlow:
    """A flow checked at the far end; subclasses set ``number`` and ``title`` and write ``_run``.

    ``run`` gives ``_run`` a client and turns a step that could not be taken (``FlowError``) or an
    answer of an unexpected shape into a failure in the outcome, so a flow reports and never raises.
    """

    number: int
    title: str

    def __init__(self, *, timeout: float = 30.0) -> None:
        self.timeout = timeout
        """Seconds to wait for the last item to arrive before counting what is missing."""

    async def run(self, force: Force, *, count: int, progress: Progress) -> FlowOutcome:
        """Drive ``count`` messages through the flow and check what arrived at the far end."""
        outcome = FlowOutcome(self.number, self.title)
        try:
            async with client() as http:
                await self._run(force, http, count=count, progress=progress, outcome=outcome)
        except FlowError as exc:
            outcome.failures += 1
            outcome.problems.append(str(exc))
        except (KeyError, TypeError, ValueError) as exc:
            outcome.failures += 1
            outcome.problems.append(f"a simulator or the hub answered in a shape not expected: {exc!r}")
        return outcome

    async def _run(
        self, force: Force, http: httpx.AsyncClient, *, count: int, progress: Progress, outcome: FlowOutcome
    ) -> None:
        raise NotImplementedError


async def answer(response: Awaitable[httpx.Response], what: str, *, expect: Iterable[int] = (200,)) -> Any:
    """The JSON of ``response``; ``FlowError`` naming ``what`` on a transport failure or wrong status."""
    try:
        got = await response
    except httpx.HTTPError as exc:
        raise FlowError(f"{what}: {type(exc).__name__}: {exc}") from None
    if got.status_code not in set(expect):
        raise FlowError(f"{what}: answered {got.status_code} {got.text[:300]}")
    try:
        return got.json()
    except ValueError:
        raise FlowError(f"{what}: the answer is not JSON: {got.text[:200]}") from None


async def cad_sends_to_hub(http: httpx.AsyncClient, force: Force) -> None:
    """Have CAD post its events to the hub's ingest with the hub's bearer token (when there is one)."""
    cad = force.sims["cad"]
    current = await answer(http.get(f"{cad}/_sim/events"), "reading CAD's webhook")
    url = current.get("url") or f"{force.hub_url}/ingest/cad"
    await answer(
        http.post(f"{cad}/_sim/webhook", json={"url": url, "headers": force.hub_headers()}),
        "giving CAD the hub's ingest and token",
    )


@dataclass(slots=True)
class Arrivals:
    """When each expected item was first seen at the far end, counted from ``started``."""

    expected: set[str]
    started: float = field(default_factory=time.monotonic)
    seen: dict[str, float] = field(default_factory=dict)
    """Milliseconds from an item's start to its first sighting."""
    starts: dict[str, float] = field(default_factory=dict)
    """When an item was sent, where it differs from ``started`` (``time.monotonic()``)."""

    def expect(self, key: str) -> None:
        """Expect ``key`` too, sent now."""
        self.expected.add(key)
        self.starts[key] = time.monotonic()

    def saw(self, keys: Iterable[str]) -> None:
        """Record the first sighting of each of ``keys`` that is expected."""
        now = time.monotonic()
        for key in keys:
            if key in self.expected and key not in self.seen:
                self.seen[key] = (now - self.starts.get(key, self.started)) * 1000.0

    @property
    def missing(self) -> set[str]:
        """Expected and not yet seen."""
        return self.expected - set(self.seen)


async def watch(
    arrivals: Arrivals, look: Callable[[], Awaitable[Iterable[str]]], *, timeout: float
) -> Arrivals:
    """Call ``look`` (the keys present at the far end) until all expected are seen or ``timeout``."""
    deadline = time.monotonic() + timeout
    while arrivals.missing and time.monotonic() < deadline:
        arrivals.saw(await look())
        if arrivals.missing:
            await asyncio.sleep(POLL_SECONDS)
    return arrivals


class DeadLetterWatch:
    """The hub's dead letters of some route groups: those already there, and those new since.

    The hub records who listed them from the bearer token the force's headers carry.
    """

    def __init__(self, force: Force, http: httpx.AsyncClient, routes: Iterable[str]) -> None:
        self.force = force
        self.http = http
        self.groups = {f"route-{name}" for name in routes}
        self._before: set[str] = set()

    async def _list(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for group in sorted(self.groups):
            listed = await answer(
                self.http.get(
                    f"{self.force.hub_url}/bus/dead-letters",
                    params={"group": group, "limit": 1000},
                    headers=self.force.hub_headers(),
                ),
                f"listing the hub's dead letters of {group}",
            )
            found += listed["dead_letters"]
        return found

    async def start(self) -> None:
        """Note the dead letters there before the run."""
        self._before = {d["id"] for d in await self._list()}

    async def new(self) -> list[dict[str, Any]]:
        """Dead letters made since ``start``."""
        return [d for d in await self._list() if d["id"] not in self._before]


def report_dead_letters(outcome: FlowOutcome, dead: list[dict[str, Any]]) -> None:
    """Count ``dead`` in ``outcome``, each one a problem with the hub's reason."""
    outcome.dead_letters += len(dead)
    outcome.problems += [
        f"dead letter {d['id']} in {d['group']} ({d['event_type']}): {d['reason']}" for d in dead
    ]
