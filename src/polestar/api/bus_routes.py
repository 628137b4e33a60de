"""``/bus/...``: the bus's operator operations over HTTP, each one recorded through ``BusAdmin``.

Showing a dead letter also records a consultation (its event is personal data) with
the purpose stated in ``X-Polestar-Purpose``.

The acting operator is the caller's verified identity (its bearer token); each
operation is authorised by policy first (``bus.read``, ``bus.consult``,
``bus.operate``) and the decision recorded. A dead letter whose event is marked
above the caller's clearance, or with a caveat it lacks, answers 404: its
existence is not disclosed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, Request

from polestar.api.bus_models import (
    BusStatsView,
    DeadLetterDetail,
    DeadLetterList,
    DeadLetterSummary,
    DiscardResult,
    OperatorReason,
    ReplayResult,
)
from polestar.api.health import HubState
from polestar.api.problems import Problem
from polestar.audit import AuditError, Operation, Outcome, PurposeRequired
from polestar.bus.admin import MAX_LIST_LIMIT, BusAdmin, ReasonRequired
from polestar.errors import BusClosed, BusError, BusUnavailable, DeadLetterNotFound
from polestar.security import Resource
from polestar.security.web import PURPOSE_HEADER, CurrentPrincipal, Purpose, require, security_of

DeadLetterId = Annotated[str, Path(min_length=1, max_length=256, description="The dead letter's id.")]

_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    HTTPStatus.SERVICE_UNAVAILABLE: {"model": Problem, "description": "The bus is unavailable now"}
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    HTTPStatus.NOT_FOUND: {"model": Problem, "description": "No dead letter has this id"},
    **_UNAVAILABLE,
}

router = APIRouter(prefix="/bus", tags=["bus"], responses=_UNAVAILABLE)
_READ = [Depends(require("bus.read"))]
_OPERATE = [Depends(require("bus.operate"))]


def _admin(request: Request) -> BusAdmin:
    hub = request.app.state.hub
    assert isinstance(hub, HubState)
    admin = hub.bus.admin if hub.bus is not None else None
    if admin is None:
        reason = hub.bus.reason if hub.bus is not None else None
        raise HTTPException(
            HTTPStatus.SERVICE_UNAVAILABLE, f"the bus is unavailable: {reason or 'not started'}"
        )
    return admin


@contextlib.contextmanager
def _answering() -> Iterator[None]:
    """Turn the bus's expected errors into problem responses."""
    try:
        yield
    except DeadLetterNotFound as exc:
        raise HTTPException(HTTPStatus.NOT_FOUND, str(exc)) from None
    except ReasonRequired as exc:
        raise HTTPException(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)) from None
    except (BusUnavailable, BusClosed, TimeoutError) as exc:
        raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, f"the bus is unavailable: {exc}") from None
    except BusError as exc:
        raise HTTPException(HTTPStatus.SERVICE_UNAVAILABLE, f"the bus could not do it: {exc}") from None
    except AuditError as exc:
        raise HTTPException(
            HTTPStatus.SERVICE_UNAVAILABLE, f"the audit log could not record it, so nothing was done: {exc}"
        ) from None


@router.get("/stats", summary="Bus statistics", dependencies=_READ)
async def stats(request: Request, principal: CurrentPrincipal) -> BusStatsView:
    """Messages kept, dead letters and each consumer group's backlog (``polestar bus stats``)."""
    with _answering():
        return BusStatsView.of(await _admin(request).stats(actor=principal.subject))


@router.get("/dead-letters", summary="List dead letters", dependencies=_READ)
async def list_dead_letters(
    request: Request,
    principal: CurrentPrincipal,
    group: Annotated[str | None, Query(max_length=64, description="Only this consumer group.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT, description="The most to return.")] = 100,
) -> DeadLetterList:
    """Dead letters oldest first, without their payloads; the listing is recorded."""
    with _answering():
        found = await _admin(request).dead_letters(actor=principal.subject, group=group, limit=limit)
    return DeadLetterList(group=group, limit=limit, dead_letters=[DeadLetterSummary.of(d) for d in found])


@router.get(
    "/dead-letters/{dead_letter_id}",
    summary="Show a dead letter",
    responses={
        HTTPStatus.BAD_REQUEST: {"model": Problem, "description": "No purpose stated (X-Polestar-Purpose)"},
        **_NOT_FOUND,
    },
)
async def show_dead_letter(
    request: Request, principal: CurrentPrincipal, dead_letter_id: DeadLetterId, purpose: Purpose = None
) -> DeadLetterDetail:
    """One dead letter with its failure history and its event; viewing it is recorded.

    The event's payload is personal data, so besides the operator action the audit log
    records a consultation of the people in it, with the purpose from the
    ``X-Polestar-Purpose`` header; where policy requires a purpose and none is given,
    the request is refused with 400 and the refusal is recorded.
    """
    actor = principal.subject
    security = security_of(request)
    hub = request.app.state.hub
    assert isinstance(hub, HubState)
    audit = hub.audit if hub.audit is not None and hub.audit.enabled else None
    query = f"dead letter {dead_letter_id}"
    with _answering():
        if audit is not None:
            try:
                audit.policy.check(Operation.CONSULTATION, purpose)
            except PurposeRequired:
                await audit.consulted(
                    actor=actor,
                    service="polestar-bus",
                    purpose=None,
                    query=query,
                    record_ids=[f"dead-letter:{dead_letter_id}"],
                    outcome=Outcome.REFUSED,
                )
                raise HTTPException(
                    HTTPStatus.BAD_REQUEST,
                    f"a dead letter shows personal data: state why in the {PURPOSE_HEADER} header "
                    "(the audit policy requires a purpose for every consultation)",
                ) from None
        await security.authorize(principal, "bus.consult", Resource.api(request.url.path), purpose=purpose)
        dead = await _admin(request).dead_letter(dead_letter_id, actor=actor)
        event = dead.message.envelope
        seen = await security.decide(
            principal,
            "bus.consult",
            Resource.event(event.id, event.type, event.classification),
            purpose=purpose,
        )
        if not seen.allowed:
            # Marked above the caller's clearance (or caveated): not found, so its existence is not disclosed.
            raise HTTPException(HTTPStatus.NOT_FOUND, f"no dead letter has id {dead_letter_id!r}")
        if audit is not None:
            envelope = dead.message.envelope
            await audit.consulted(
                actor=actor,
                service="polestar-bus",
                purpose=purpose,
                query=query,
                envelopes=[envelope],
                record_ids=[f"dead-letter:{dead.id}", f"event:{envelope.id}"],
            )
        return DeadLetterDetail.of(dead)


@router.post(
    "/dead-letters/{dead_letter_id}/replay",
    summary="Replay a dead letter",
    responses=_NOT_FOUND,
    dependencies=_OPERATE,
)
async def replay_dead_letter(
    request: Request,
    principal: CurrentPrincipal,
    dead_letter_id: DeadLetterId,
    body: Annotated[OperatorReason, Body()],
) -> ReplayResult:
    """Send the dead letter back to its consumer group as a fresh delivery; the reason is recorded."""
    with _answering():
        ack = await _admin(request).replay(dead_letter_id, actor=principal.subject, reason=body.reason)
    return ReplayResult.of(dead_letter_id, ack)


@router.post(
    "/dead-letters/{dead_letter_id}/discard",
    summary="Discard a dead letter",
    responses=_NOT_FOUND,
    dependencies=_OPERATE,
)
async def discard_dead_letter(
    request: Request,
    principal: CurrentPrincipal,
    dead_letter_id: DeadLetterId,
    body: Annotated[OperatorReason, Body()],
) -> DiscardResult:
    """Delete the dead letter for good: it will not be delivered again. The reason is recorded."""
    with _answering():
        dead = await _admin(request).discard(dead_letter_id, actor=principal.subject, reason=body.reason)
    return DiscardResult(id=dead.id, group=dead.group, event_id=dead.message.envelope.id)
