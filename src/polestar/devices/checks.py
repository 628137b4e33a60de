"""Person and vehicle checks from a device: validated, asked of a national system, answered canonically.

::

    device ──PersonCheck──► ChecksDesk ──(breaker, timeout)──► outbound connector (SOAP) ──► PNC
                              │                                                     │
                              └◄──────────── PersonAnswer / VehicleAnswer ◄── reply ┘

The desk builds the enquiry element (``<PersonEnquiry>`` in the configured
namespace), hands it to the connector the configuration names, and reads the
reply (``polestar.devices.answers``). A system that does not answer within the
timeout, answers 5xx or is unreachable counts against the circuit breaker;
while the breaker is open every check fails at once with ``CheckUnavailable``
and a ``retry_after``. Refusals the system gives the request itself (a PNC
ID with a bad check character) are ``CheckRefused``: the system is up.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from lxml import etree
from pydantic import BaseModel, ConfigDict, Field, model_validator

from polestar.connectors.contract import OutboundConnector, OutboundMessage
from polestar.devices.answers import PersonAnswer, VehicleAnswer, person_answer, vehicle_answer
from polestar.devices.config import ChecksConfig
from polestar.errors import CircuitOpen, DeliveryFailed, DeliveryRefused, PolestarError
from polestar.model.envelope import Envelope
from polestar.routes.breaker import CircuitBreaker

VRM_PATTERN = re.compile(r"^[A-Za-z0-9 ]{2,10}$")


class CheckError(PolestarError):
    """A check could not be answered; subclasses say whether to retry."""


class CheckUnavailable(CheckError):  # noqa: N818 - reads as the answer the officer gets
    """The national system is down, slow or its breaker open: try again after ``retry_after`` seconds."""

    def __init__(self, reason: str, *, retry_after: float) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class CheckRefused(CheckError):  # noqa: N818 - reads as the answer the officer gets
    """The system refused this request (its fault text says which field); asking again will not help."""


class CheckNotAgreed(CheckError):  # noqa: N818 - reads as the answer the officer gets
    """No data-sharing agreement lets this check's personal data go to the system: it is not asked."""


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)

    reason: str = Field(
        min_length=1,
        max_length=8,
        description="The enquiry reason code (why the check is made); required for every check.",
        examples=["2"],
    )
    justification: str | None = Field(
        default=None,
        max_length=500,
        description="The officer's words on why, recorded with the purpose. Never the subject's details.",
        examples=["stopped driving without lights"],
    )
    officer: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.@-]+$",
        description="The officer asking (else the X-Officer-Id header).",
        examples=["PC4471"],
    )


class PersonCheck(_Check):
    """``POST /api/checks/person``: a PNC ID, or a surname and date of birth."""

    surname: str | None = Field(default=None, min_length=1, max_length=60, examples=["OKAFOR"])
    forename: str | None = Field(default=None, min_length=1, max_length=60, examples=["Dan"])
    date_of_birth: date | None = Field(default=None, alias="dateOfBirth", examples=["1994-03-17"])
    pnc_id: str | None = Field(
        default=None,
        alias="pncId",
        min_length=4,
        max_length=16,
        pattern=r"^\d{2,4}/\d{1,7}[A-Za-z]$",
        examples=["2012/0052494Q"],
    )

    @model_validator(mode="after")
    def _something_to_search_on(self) -> PersonCheck:
        if self.pnc_id is None and (self.surname is None or self.date_of_birth is None):
            raise ValueError("a person check needs pncId, or surname and dateOfBirth")
        return self

    def terms(self) -> dict[str, str]:
        """The search terms as the enquiry names them."""
        if self.pnc_id is not None:
            return {"PNCId": self.pnc_id.upper()}
        assert self.surname is not None
        assert self.date_of_birth is not None
        terms = {"Surname": self.surname}
        if self.forename:
            terms["Forename"] = self.forename
        terms["DateOfBirth"] = self.date_of_birth.isoformat()
        return terms


class VehicleCheck(_Check):
    """``POST /api/checks/vehicle``: a vehicle registration mark."""

    vrm: str = Field(
        min_length=2,
        max_length=10,
        pattern=r"^[A-Za-z0-9 ]+$",
        description="Registration.",
        examples=["AB12 CDE"],
    )

    def terms(self) -> dict[str, str]:
        """The search terms as the enquiry names them."""
        return {"VRM": re.sub(r"\s+", "", self.vrm).upper()}


ConnectorLookup = Callable[[str], OutboundConnector | None]
"""The running outbound connector of a name (the integration runtime's)."""
GateLookup = Callable[[], Callable[[str, str | None, Envelope], Awaitable[Envelope]] | None]
"""The data-sharing agreement gate in force (the integration runtime's ``delivery_gate``), if any."""


class ChecksDesk:
    """Asks the configured connector, behind one circuit breaker per connector, with a timeout."""

    def __init__(
        self,
        config: ChecksConfig,
        connectors: ConnectorLookup,
        *,
        system: str = "PNC",
        gate: GateLookup = lambda: None,
    ) -> None:
        self.config = config
        self.system = system
        self._connectors = connectors
        self._gate = gate
        self._breakers: dict[str, CircuitBreaker] = {}

    def breaker(self, connector: str) -> CircuitBreaker:
        """The breaker guarding ``connector`` (made on first use)."""
        found = self._breakers.get(connector)
        if found is None:
            found = self._breakers[connector] = CircuitBreaker(self.config.breaker, name=connector)
        return found

    def reason_text(self, code: str) -> str | None:
        """What a reason code means, or None when it is not one of the configured codes."""
        return self.config.reason_codes.get(code)

    async def person(self, check: PersonCheck, *, officer: str, envelope: Envelope) -> PersonAnswer:
        """Ask the person connector; ``CheckUnavailable`` or ``CheckRefused`` when it cannot answer."""
        reply = await self._ask(
            self.config.person_connector, self.config.person_element, check, officer, envelope
        )
        return person_answer(reply, self.config.person_connector)

    async def vehicle(self, check: VehicleCheck, *, officer: str, envelope: Envelope) -> VehicleAnswer:
        """Ask the vehicle connector; ``CheckUnavailable`` or ``CheckRefused`` when it cannot answer."""
        reply = await self._ask(
            self.config.vehicle_connector, self.config.vehicle_element, check, officer, envelope
        )
        return vehicle_answer(reply, self.config.vehicle_connector)

    def _enquiry(self, element: str, check: PersonCheck | VehicleCheck, officer: str) -> bytes:
        ns = self.config.namespace
        root = etree.Element(f"{{{ns}}}{element}", nsmap={None: ns})  # type: ignore[dict-item]
        fields = {"UserId": officer, "ReasonCode": check.reason, "Terminal": self.config.terminal}
        for name, value in {**fields, **check.terms()}.items():
            etree.SubElement(root, f"{{{ns}}}{name}").text = value
        return bytes(etree.tostring(root, encoding="utf-8"))

    async def _ask(
        self,
        connector_name: str,
        element: str,
        check: PersonCheck | VehicleCheck,
        officer: str,
        envelope: Envelope,
    ) -> dict[str, Any]:
        connector = self._connectors(connector_name)
        if connector is None:
            raise CheckUnavailable(
                f"{self.system} unavailable: connector {connector_name!r} is not running "
                "(see GET /connectors)",
                retry_after=self.config.breaker.open_seconds,
            )
        # A check sends personal data to another controller's system: a disclosure, so the same
        # agreement gate as every outbound route decides whether it may happen at all.
        gate = self._gate()
        if gate is not None:
            try:
                envelope = await gate(connector_name, None, envelope)
            except DeliveryRefused as exc:
                raise CheckNotAgreed(f"{self.system} was not asked: {exc}") from None
        message = OutboundMessage(
            envelope=envelope, body=self._enquiry(element, check, officer), content_type="application/xml"
        )
        timeout = self.config.timeout

        async def deliver() -> dict[str, Any]:
            try:
                async with asyncio.timeout(timeout):
                    receipt = await connector.deliver(message)
            except TimeoutError:
                raise DeliveryFailed(f"no answer within {timeout:g} s") from None
            return dict(receipt.response)

        breaker = self.breaker(connector_name)
        try:
            return await breaker.call(deliver)
        except CircuitOpen as exc:
            wait = max(exc.retry_after or 0.0, 0.05)
            raise CheckUnavailable(
                f"{self.system} unavailable: it failed repeatedly and is not being asked for now "
                f"(circuit breaker open); try again in {wait:.0f} s",
                retry_after=wait,
            ) from None
        except DeliveryFailed as exc:
            raise CheckUnavailable(
                f"{self.system} unavailable: {exc.reason}",
                retry_after=exc.retry_after or min(self.config.breaker.open_seconds, 5.0),
            ) from None
        except DeliveryRefused as exc:
            raise CheckRefused(f"{self.system} refused the check: {exc}") from None
