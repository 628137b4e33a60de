"""The officer device API: checks, dispatches, status (``create_device_router``).

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

import math
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from polestar.api.device_identity import NAME, calling_device, device_caller, invalid
from polestar.api.problems import Problem
from polestar.bus.contract import BusMessage
from polestar.devices import (
    INCIDENT_PATTERN,
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
    sse_events,
)
from polestar.devices.audit import AnswerNotAudited, CheckAudit
from polestar.errors import BusError, BusUnavailable
from polestar.model.envelope import Envelope
from polestar.security.policy import Resource, marking_of
from polestar.security.principal import Principal
from polestar.security.web import CurrentPrincipal, require, security_of

if TYPE_CHECKING:
    from polestar.api.device_component import DeviceComponent

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
