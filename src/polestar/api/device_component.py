"""The officer device gateway as a component of the running API: checks, dispatches, status.

=============================================  ======================================================
endpoint                                       what it does
=============================================  ======================================================
``POST /api/checks/person``, ``/vehicle``      a check asked of the configured national system; 422
                                               naming the field, 503 "PNC unavailable" + Retry-After
``GET /api/devices/{device}/dispatches``       Server-Sent Events ``dispatch``, id = bus sequence;
                                               ``Last-Event-ID`` replays what was missed from the bus
``GET /api/devices/{device}``                  the device's unit and open streams
``POST /api/incidents/{incident}/status``      a unit's status, in order per incident (409 naming
                                               expected vs got); a repeat is answered as before
=============================================  ======================================================

Configuration is ``devices/*.yaml`` in the integration folder
(``polestar.devices.config``); without it these endpoints answer 503.
Every check is audited: the question as a consultation by the officer with
their stated reason, the answer as a disclosure to their device. An answer
that cannot be audited is not given.

Authorisation: a check is ``device.check``; a device's state and dispatch feed
are ``device.read`` and a unit's status ``device.status``, each decided on the
device itself, so policy lets an officer's device read only its own feed. The
officer and device are the verified token's (``polestar.api.device_identity``).
A check is a disclosure to the national system, so the data-sharing agreement
gate decides it first, as for every outbound route.
"""

from __future__ import annotations

import asyncio
import logging
import math
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from polestar.api.bus_component import BusComponent
from polestar.api.device_identity import NAME, calling_device, device_caller, invalid
from polestar.api.health import ComponentStatus
from polestar.api.integration_component import IntegrationComponent
from polestar.api.problems import Problem
from polestar.bus.contract import BusEngine, BusMessage
from polestar.connectors.contract import OutboundConnector
from polestar.devices import (
    INCIDENT_PATTERN,
    AuditRecorder,
    CheckNotAgreed,
    CheckRefused,
    CheckUnavailable,
    DeviceGatewayConfig,
    PersonAnswer,
    PersonCheck,
    SequenceConflict,
    StatusAccepted,
    StatusReport,
    UnknownStatus,
    VehicleAnswer,
    VehicleCheck,
    load_device_config,
    sse_events,
)
from polestar.devices.audit import AnswerNotAudited, CheckAudit
from polestar.devices.gateway import DeviceGateway
from polestar.devices.reload import DeviceConfigWatcher, device_fingerprint
from polestar.errors import BusError, BusUnavailable, ConfigError
from polestar.model.envelope import Envelope
from polestar.security.policy import Resource, marking_of
from polestar.security.principal import Principal
from polestar.security.web import CurrentPrincipal, require, security_of

log = logging.getLogger(__name__)

COMPONENT = "devices"


class DeviceComponent:
    """Owns the gateway (``polestar.devices.gateway``) and the watcher of its files for the hub's lifetime.

    Args:
        integration: the integrations component (its runtime's connectors answer checks).
        bus: the bus component.
        components: the hub's component statuses; the gateway reports itself there once configured.
        record: appends an audit entry (``AuditComponent.record``); None records nothing.
    """

    def __init__(
        self,
        integration: IntegrationComponent | None,
        bus: BusComponent,
        *,
        components: dict[str, ComponentStatus],
        record: AuditRecorder | None,
    ) -> None:
        self.integration = integration
        self._bus_component = bus
        self._components = components
        self.record = record
        self.gateway = DeviceGateway(self._connector, self.bus, self._delivery_gate)
        self.reason: str | None = "not started"
        self.refused: ConfigError | None = None
        """The last change to the files that was refused (the running configuration carried on)."""
        self._watcher: DeviceConfigWatcher | None = None
        self._lock = asyncio.Lock()

    @property
    def config(self) -> DeviceGatewayConfig | None:
        """The configuration running now."""
        return self.gateway.config

    def bus(self) -> BusEngine | None:
        """The bus engine now (None while it is not connected)."""
        return self._bus_component.engine

    def _connector(self, name: str) -> OutboundConnector | None:
        if self.integration is None:
            return None
        return self.integration.runtime.outbound_connector(name)

    def _delivery_gate(self) -> Any:
        # The same agreement gate the routes runtime asks before every delivery (install_security sets it).
        return None if self.integration is None else self.integration.runtime.delivery_gate

    @property
    def folder(self) -> Path | None:
        """The integration folder the gateway is configured in."""
        return None if self.integration is None else self.integration.config_dir

    async def start(self) -> None:
        """Load ``devices/*.yaml`` and watch it; an invalid file is reported (``reason``, log), not raised."""
        if self.folder is None:
            self.reason = "no integration folder is configured"
            return
        tried = device_fingerprint(self.folder)
        await self.reload()
        if self.folder.is_dir():
            self._watcher = DeviceConfigWatcher(self.folder, self.reload, tried=tried)
            self._watcher.start()

    async def reload(self) -> tuple[str, ...]:
        """Load the files again and apply what changed; the parts changed (none if refused).

        A file with a problem is refused, each problem located (``FILE:LINE:COL path``), and the running
        configuration carries on.
        """
        assert self.folder is not None
        async with self._lock:
            try:
                config = load_device_config(self.folder)
            except ConfigError as exc:
                self.refused = exc
                problems = "; ".join(f"{where}: {why}" for where, why in exc.problems[:5])
                running = self.gateway.config is not None
                if not running:
                    self.reason = problems
                    self._components[COMPONENT] = ComponentStatus.UNAVAILABLE
                what = "config change refused; the running version carries on" if running else "not started"
                log.error("device gateway %s: %s", what, exc)  # noqa: TRY400 - located problems, not a crash
                return ()
            self.refused = None
            if config is None:
                await self.gateway.close()
                self.reason = f"no device gateway is configured in {self.folder}/devices"
                self._components.pop(COMPONENT, None)
                return ()
            first = self.gateway.config is None
            changed = await self.gateway.apply(config)
            self.reason = None
            self._components[COMPONENT] = ComponentStatus.OK
            if changed and not first:
                log.info("device gateway config reloaded: %s", ", ".join(changed))
            return changed

    async def close(self) -> None:
        """Stop watching, then the dispatch feed (open streams end; devices resume with Last-Event-ID)."""
        if self._watcher is not None:
            await self._watcher.stop()
            self._watcher = None
        await self.gateway.close()
        if COMPONENT in self._components:
            self._components[COMPONENT] = ComponentStatus.STOPPING


# -- the device API ------------------------------------------------------------------------------

DEVICE_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": HTTPStatus(status).phrase}
    for status in (HTTPStatus.CONFLICT, HTTPStatus.SERVICE_UNAVAILABLE)
}


class DeviceState(BaseModel):
    """A device's unit and its open dispatch streams."""

    model_config = ConfigDict(extra="forbid")

    device: str = Field(examples=["IVMA-CX21"])
    callSign: str = Field(examples=["CX21"])  # noqa: N815 - the device API's own field names
    streams: int = Field(ge=0, description="Dispatch streams open to this hub process.")
    position: int | None = Field(description="The bus sequence the dispatch feed has read up to.")


def _unavailable(detail: str, retry_after: float) -> HTTPException:
    return HTTPException(
        HTTPStatus.SERVICE_UNAVAILABLE, detail, headers={"Retry-After": str(max(1, math.ceil(retry_after)))}
    )


def _running(component: DeviceComponent) -> DeviceGatewayConfig:
    if component.config is None:
        raise _unavailable(f"the device gateway is not running: {component.reason}", 5)
    return component.config


async def _own_device(request: Request, principal: Principal, device: str, action: str) -> None:
    """Policy on the device itself: an officer's token reaches only its bound device (403, audited)."""
    await security_of(request).authorize(principal, action, Resource.device(device[:64]))


def _call_sign(component: DeviceComponent, device: str) -> str:
    config = _running(component)
    call_sign = config.dispatch.call_sign_of(device) if NAME.match(device) else None
    if call_sign is None:
        raise invalid("path", "device", "not a device id the gateway can tell a unit's call sign from")
    return call_sign


def create_device_router(component: DeviceComponent) -> APIRouter:
    """The device endpoints over ``component`` (they answer 503 until it is configured)."""
    router = APIRouter(tags=["devices"], responses=DEVICE_RESPONSES)

    @router.post(
        "/api/checks/person", summary="Person check", dependencies=[Depends(require("device.check"))]
    )
    async def person_check(body: PersonCheck, request: Request, principal: CurrentPrincipal) -> PersonAnswer:
        """Ask the configured national system about a person, by PNC ID or name and date of birth.

        The reason code is required and recorded, with the justification, as the purpose of
        the consultation; the answer is recorded as a disclosure to the device. 503 with
        Retry-After when the system is unavailable (its circuit breaker open).
        """
        answer = await run_check(component, request, principal, body)
        assert isinstance(answer, PersonAnswer)
        return answer

    @router.post(
        "/api/checks/vehicle", summary="Vehicle check", dependencies=[Depends(require("device.check"))]
    )
    async def vehicle_check(
        body: VehicleCheck, request: Request, principal: CurrentPrincipal
    ) -> VehicleAnswer:
        """Ask the configured national system about a vehicle by registration mark."""
        answer = await run_check(component, request, principal, body)
        assert isinstance(answer, VehicleAnswer)
        return answer

    @router.get("/api/devices/{device}", summary="A device's unit and streams")
    async def device_state(device: str, request: Request, principal: CurrentPrincipal) -> DeviceState:
        """The unit a device rides with and how many dispatch streams it has open."""
        call_sign = _call_sign(component, device)
        await _own_device(request, principal, device, "device.read")
        feed = component.gateway.feed
        assert feed is not None
        return DeviceState(
            device=device, callSign=call_sign, streams=feed.streams(call_sign), position=feed.position
        )

    @router.get(
        "/api/devices/{device}/dispatches",
        summary="Dispatches to a device (Server-Sent Events)",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream."}},
    )
    async def dispatches(device: str, request: Request, principal: CurrentPrincipal) -> StreamingResponse:
        """Incidents assigned to the device's unit, as ``event: dispatch`` with the bus sequence as id.

        Send ``Last-Event-ID`` to resume: everything after it is replayed from the bus first. A
        device reads only its own feed (403 for another's).
        """
        call_sign = _call_sign(component, device)
        await _own_device(request, principal, device, "device.read")
        feed = component.gateway.feed
        assert feed is not None
        last = (request.headers.get("last-event-id") or "").strip()
        if last and not last.isdigit():
            raise invalid("header", "Last-Event-ID", "not an id this hub sent (a bus sequence number)")
        security = security_of(request)

        async def may_receive(message: BusMessage) -> bool:
            # Each dispatch is decided as a disclosure to this device, on the incident's own marking.
            envelope = message.envelope
            resource = Resource(
                id=f"event:{envelope.id}",
                kind="device",
                marking=marking_of(envelope.classification),
                category=device[:128],
            )
            return (await security.decide(principal, "device.read", resource)).allowed

        return StreamingResponse(
            sse_events(feed, call_sign, int(last) if last else None, may_receive),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.post("/api/incidents/{incident}/status", summary="A unit's status")
    async def status(
        incident: str, body: StatusReport, request: Request, principal: CurrentPrincipal
    ) -> StatusAccepted:
        """A unit's status for an incident (ENROUTE, ONSCENE, CLEARED), numbered per incident.

        Published for the route that carries it to CAD. The next sequence is accepted, a repeat
        is answered as before, anything else is refused with 409 naming expected and got.
        """
        _running(component)
        desk = component.gateway.status
        assert desk is not None
        if not INCIDENT_PATTERN.match(incident):
            raise invalid("path", "incident", "1-64 letters, digits, '_' or '-'")
        device = await calling_device(request, principal, action="device.status")
        await _own_device(request, principal, device, "device.status")
        unit = _running(component).dispatch.call_sign_of(device)
        if unit is not None and unit.upper() != body.callSign.upper():
            await security_of(request).refuse(
                principal,
                "device.status",
                Resource.device(device),
                f"device {device} rides with {unit}; it cannot report {body.callSign}'s status",
                policy="a-device-reports-its-own-unit",
            )
        officer = principal.person if security_of(request).required else request.headers.get("x-officer-id")
        try:
            return await desk.report(incident, body, device=device, officer=officer)
        except UnknownStatus as exc:
            raise invalid("body", "status", str(exc)) from None
        except SequenceConflict as exc:
            raise HTTPException(HTTPStatus.CONFLICT, str(exc)) from None
        except (BusUnavailable, BusError) as exc:
            raise _unavailable(f"status not accepted, send it again: {exc}", 2) from None

    return router


async def run_check(
    component: DeviceComponent, request: Request, principal: Principal, check: PersonCheck | VehicleCheck
) -> PersonAnswer | VehicleAnswer:
    """Ask, audit and answer one check; HTTP problems for what went wrong, naming it."""
    config = _running(component)
    desk = component.gateway.checks
    assert desk is not None
    caller = await device_caller(request, principal, action="device.check", stated_officer=check.officer)
    officer, device = caller.officer, caller.device
    reason = desk.reason_text(check.reason)
    if reason is None:
        codes = ", ".join(f"{c} ({t})" for c, t in sorted(config.checks.reason_codes.items()))
        raise invalid("body", "reason", f"{check.reason!r} is not a reason code; use one of {codes}")
    purpose = f"{check.reason}: {reason}" + (f" - {check.justification}" if check.justification else "")
    kind = "person" if isinstance(check, PersonCheck) else "vehicle"
    query = f"{kind} check " + " ".join(f"{k}={v}" for k, v in check.terms().items())
    # The agreement with the national system lists the purposes a check serves in words (the
    # reason codes' meanings), so the envelope states the reason's words first.
    envelope = Envelope(
        source=f"/devices/{device}",
        type=f"{kind}.check.requested",
        actor=f"user:{officer}",
        purpose=reason + (f" - {check.justification}" if check.justification else ""),
        data={"terms": check.terms(), "device": device},
    )
    audit = CheckAudit(
        component.record,
        officer=officer,
        device=device,
        system=desk.system,
        purpose=purpose,
        correlation=envelope.id,
    )
    try:
        if isinstance(check, PersonCheck):
            answer: PersonAnswer | VehicleAnswer = await desk.person(
                check, officer=officer, envelope=envelope
            )
        else:
            answer = await desk.vehicle(check, officer=officer, envelope=envelope)
    except CheckUnavailable as exc:
        await audit.failed(query, exc.reason)
        raise _unavailable(exc.reason, exc.retry_after) from None
    except CheckRefused as exc:
        await audit.failed(query, str(exc))
        raise invalid("body", "query", str(exc)) from None
    except CheckNotAgreed as exc:
        await audit.failed(query, str(exc))
        raise HTTPException(HTTPStatus.FORBIDDEN, str(exc)) from None
    try:
        await audit.answered(query, answer, vrm=check.terms().get("VRM"))
    except AnswerNotAudited as exc:
        raise _unavailable(str(exc), 5) from None
    return answer
