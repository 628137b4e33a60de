"""What every simulator shares: latency, injected errors, an outage switch and a request log.

Each simulator is a FastAPI app built by its own factory; ``install_controls``
adds the ``/_sim`` admin surface and a middleware that, for every request
outside ``/_sim``:

1. answers the outage response (503 with ``Retry-After``) while the outage is on;
2. waits the configured latency (fixed plus uniform jitter);
3. answers an injected error (5xx) at the configured rate;
4. otherwise lets the simulator answer,

and logs the request either way (method, path, status, outcome, duration,
and whatever detail the simulator put in ``request.state.sim_detail``).

=====================  ================================================  =======================
admin endpoint         body                                              answer
=====================  ================================================  =======================
``GET /_sim/state``    —                                                 the current settings
``POST /_sim/outage``  ``{"on": true}``                                  the current settings
``POST /_sim/latency`` ``{"fixed_ms": 200, "jitter_ms": 50}``            the current settings
``POST /_sim/errors``  ``{"rate": 0.1, "status": 500}``                  the current settings
``GET /_sim/log``      ``?limit=100``                                    ``{"entries": [...]}``
``DELETE /_sim/log``   —                                                 204
=====================  ================================================  =======================
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

ADMIN_PREFIX = "/_sim"

ResponseFactory = Callable[[int, str], Response]
"""Builds a refusal in the simulator's own format from an HTTP status and a reason."""


def json_refusal(status: int, reason: str) -> Response:
    """The default refusal: a small JSON problem document."""
    return JSONResponse({"status": status, "detail": reason}, status_code=status)


class OutageSetting(BaseModel):
    """Body of ``POST /_sim/outage``."""

    model_config = ConfigDict(extra="forbid")

    on: bool = Field(description="True takes the simulator down (503 to every request but /_sim).")
    retry_after: int = Field(default=5, ge=0, le=3600, description="Seconds announced in Retry-After.")


class LatencySetting(BaseModel):
    """Body of ``POST /_sim/latency``."""

    model_config = ConfigDict(extra="forbid")

    fixed_ms: float = Field(default=0.0, ge=0, le=120_000, description="Delay added to every request.")
    jitter_ms: float = Field(default=0.0, ge=0, le=120_000, description="Uniform extra delay, 0 to this.")


class ErrorSetting(BaseModel):
    """Body of ``POST /_sim/errors``."""

    model_config = ConfigDict(extra="forbid")

    rate: float = Field(ge=0.0, le=1.0, description="Share of requests answered with an injected error.")
    status: int = Field(default=500, ge=500, le=599, description="The 5xx status injected.")


@dataclass
class SimControls:
    """The knobs of one simulator, and its request log (newest last, bounded)."""

    name: str
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_status: int = 500
    outage: bool = False
    retry_after: int = 5
    log_size: int = 10_000
    seed: int = 0
    log: deque[dict[str, Any]] = field(init=False)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.log = deque(maxlen=self.log_size)
        self._random = random.Random(f"{self.name}:{self.seed}")  # noqa: S311 - simulation, not crypto

    def state(self) -> dict[str, Any]:
        """The settings as JSON."""
        return {
            "name": self.name,
            "outage": self.outage,
            "retry_after": self.retry_after,
            "latency": {"fixed_ms": self.latency_ms, "jitter_ms": self.jitter_ms},
            "errors": {"rate": self.error_rate, "status": self.error_status},
            "logged": len(self.log),
        }

    def delay(self) -> float:
        """Seconds to wait before answering this request."""
        jitter = self._random.uniform(0, self.jitter_ms) if self.jitter_ms else 0.0
        return (self.latency_ms + jitter) / 1000.0

    def inject_error(self) -> bool:
        """Whether this request gets an injected error."""
        return self.error_rate > 0 and self._random.random() < self.error_rate

    def record(self, entry: dict[str, Any]) -> None:
        """Append one entry to the log."""
        self.log.append(entry)

    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest ``limit`` entries (all when ``None``), oldest first."""
        items = list(self.log)
        return items if limit is None else items[-limit:]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def admin_router(controls: SimControls) -> APIRouter:
    """The ``/_sim`` endpoints over ``controls``."""
    router = APIRouter(prefix=ADMIN_PREFIX, tags=["simulator admin"])

    @router.get("/state")
    async def state() -> dict[str, Any]:
        return controls.state()

    @router.post("/outage")
    async def outage(setting: OutageSetting) -> dict[str, Any]:
        controls.outage = setting.on
        controls.retry_after = setting.retry_after
        return controls.state()

    @router.post("/latency")
    async def latency(setting: LatencySetting) -> dict[str, Any]:
        controls.latency_ms, controls.jitter_ms = setting.fixed_ms, setting.jitter_ms
        return controls.state()

    @router.post("/errors")
    async def errors(setting: ErrorSetting) -> dict[str, Any]:
        controls.error_rate, controls.error_status = setting.rate, setting.status
        return controls.state()

    @router.get("/log")
    async def read_log(limit: int | None = None) -> dict[str, Any]:
        return {"entries": controls.entries(limit)}

    @router.delete("/log", status_code=204)
    async def clear_log() -> Response:
        controls.log.clear()
        return Response(status_code=204)

    return router


def install_controls(app: FastAPI, controls: SimControls, *, refusal: ResponseFactory = json_refusal) -> None:
    """Add the admin router and the outage/latency/error/log middleware to ``app``."""
    app.include_router(admin_router(controls))
    app.state.sim = controls

    @app.middleware("http")
    async def _simulate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if request.url.path.startswith(ADMIN_PREFIX):
            return await call_next(request)
        started = time.perf_counter()
        entry: dict[str, Any] = {
            "at": _now(),
            "method": request.method,
            "path": request.url.path,
            "client": request.client.host if request.client else None,
        }
        if controls.outage:
            response = refusal(503, f"{controls.name} is unavailable (simulated outage)")
            response.headers["Retry-After"] = str(controls.retry_after)
            entry["outcome"] = "outage"
        else:
            delay = controls.delay()
            if delay:
                await asyncio.sleep(delay)
            if controls.inject_error():
                response = refusal(controls.error_status, f"{controls.name} failed (simulated error)")
                entry["outcome"] = "injected-error"
            else:
                response = await call_next(request)
                entry["outcome"] = "answered"
                detail = getattr(request.state, "sim_detail", None)
                if detail:
                    entry["detail"] = detail
        entry["status"] = response.status_code
        entry["ms"] = round((time.perf_counter() - started) * 1000, 2)
        controls.record(entry)
        return response


def note(request: Request, **detail: Any) -> None:
    """Attach ``detail`` to this request's log entry (merged with any detail already noted)."""
    existing = getattr(request.state, "sim_detail", None) or {}
    request.state.sim_detail = {**existing, **detail}
