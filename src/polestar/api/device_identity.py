"""Who is calling the device gateway: the officer and the device, as the verified token says.

The officer is the token's person (``user:PC4471`` is officer ``PC4471``); the
device is the one the token is bound to (its ``device`` claim, or a
``device:`` subject). What a device says about itself (``X-Officer-Id``,
``X-Device-Id``, a check's ``officer``) is only accepted when it agrees with
the token: a device asking as another officer, or as another device, is
refused (403) and the refusal audited. A token bound to no device (an officer
at a desk) names its device with ``X-Device-Id``, which is recorded as the
recipient of what is disclosed.

With ``security.authentication: off`` (throwaway hubs only) there is no token,
so the device's own word is taken, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request
from fastapi.exceptions import RequestValidationError

from polestar.security.policy import Resource
from polestar.security.principal import Principal
from polestar.security.web import security_of

NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
"""An officer or device id as the gateway and PNC accept them."""
IDENTITY_POLICY = "identity-must-match-the-token"
"""Named in the audit log when a device claims an identity its token does not carry."""


@dataclass(frozen=True, slots=True)
class DeviceCaller:
    """The officer asking and the device they ask from."""

    officer: str
    device: str


def invalid(where: str, name: str, msg: str) -> RequestValidationError:
    """A 422 naming ``where.name`` (rendered by the app's problem handler)."""
    return RequestValidationError([{"loc": (where, name), "msg": msg, "type": "value_error"}])


async def device_caller(
    request: Request, principal: Principal, *, action: str, stated_officer: str | None = None
) -> DeviceCaller:
    """The officer and device of a check; 403 (audited) when what is stated contradicts the token."""
    security = security_of(request)
    officer_said = stated_officer or request.headers.get("x-officer-id")
    device = await calling_device(request, principal, action=action)
    if not security.required:
        if not officer_said:
            raise invalid("body", "officer", "the officer asking is required (or the X-Officer-Id header)")
        if not NAME.match(officer_said):
            raise invalid("header", "X-Officer-Id", "1-64 letters, digits and . _ @ - only")
        return DeviceCaller(officer_said, device)
    officer = principal.person
    resource = Resource.device(device)
    if officer is None or not NAME.match(officer):
        await security.refuse(
            principal,
            action,
            resource,
            f"a check is made by an officer: the token's subject {principal.subject!r} "
            "is not user:<officer id>",
            policy=IDENTITY_POLICY,
        )
    if officer_said and officer_said.casefold() != officer.casefold():
        await security.refuse(
            principal,
            action,
            resource,
            f"the token is {principal.subject}'s; a device cannot ask as officer {officer_said!r}",
            policy=IDENTITY_POLICY,
        )
    return DeviceCaller(officer, device)


async def calling_device(request: Request, principal: Principal, *, action: str) -> str:
    """The device calling: the token's, or ``X-Device-Id`` for an unbound token; 403 if they differ."""
    said = request.headers.get("x-device-id")
    bound = principal.device
    if bound is not None and security_of(request).required:
        if said and said != bound:
            await security_of(request).refuse(
                principal,
                action,
                Resource.device(said[:64]),
                f"the token is bound to device {bound}; it cannot speak for device {said[:64]!r}",
                policy=IDENTITY_POLICY,
            )
        return bound
    if not said:
        raise invalid("header", "X-Device-Id", "the device asking is required")
    if not NAME.match(said):
        raise invalid("header", "X-Device-Id", "1-64 letters, digits and . _ @ - only")
    return said
