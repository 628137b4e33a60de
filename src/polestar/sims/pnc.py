"""The PNC simulator: person and vehicle enquiries over SOAP 1.1, every enquiry logged.

``POST /pnc/enquiry`` takes a SOAP 1.1 envelope whose Body holds one of::

    <PersonEnquiry xmlns="urn:pnc:enquiry:1">
      <UserId>PC4471</UserId><ReasonCode>2</ReasonCode>
      <Surname>OKAFOR</Surname><Forename>Dan</Forename><DateOfBirth>1994-03-17</DateOfBirth>
    </PersonEnquiry>                          (or <PNCId>2012/0052494Q</PNCId>)
    <VehicleEnquiry xmlns="urn:pnc:enquiry:1">
      <UserId>PC4471</UserId><ReasonCode>3</ReasonCode><VRM>AB12 CDE</VRM>
    </VehicleEnquiry>

``UserId``, ``ReasonCode`` and ``Terminal`` may instead sit in a Header
``<EnquiryContext>``. The reply is ``PersonEnquiryResponse`` /
``VehicleEnquiryResponse`` with a transaction id, a match count and the
records (wanted/missing markers, warning signals, keeper, stolen report).
A request without a user or a known reason, or with nothing to search on,
is a ``soap:Client`` fault (HTTP 500, as SOAP 1.1 has it); while the outage
switch is on every request gets 503 and a ``soap:Server`` fault. Every
enquiry, answered or refused, is logged with who asked and why
(``GET /_sim/enquiries``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from lxml import etree

from polestar.sims import _xml
from polestar.sims.harness import SimControls, install_controls, note
from polestar.sims.synthetic import (
    WARNING_SIGNALS,
    Person,
    Vehicle,
    World,
    nicknames,
    spelling_variants,
    valid_pnc_id,
)

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PNC_NS = "urn:pnc:enquiry:1"
ENQUIRY_PATH = "/pnc/enquiry"
MAX_MATCHES = 10

REASON_CODES: dict[str, str] = {
    "1": "stop and search",
    "2": "person check on the street",
    "3": "road traffic / vehicle check",
    "4": "investigation of crime",
    "5": "custody reception",
    "6": "missing person enquiry",
    "7": "warrant / wanted check",
    "8": "intelligence",
    "9": "licensing and vetting",
}
"""The simulator's enquiry reason codes (every enquiry must give one)."""


class _Fault(Exception):  # noqa: N818 - a SOAP fault to answer, not an error of the simulator
    def __init__(self, code: str, reason: str, status: int = 500) -> None:
        super().__init__(reason)
        self.code, self.reason, self.status = code, reason, status


def fault_response(status: int, reason: str, code: str = "soap:Server") -> Response:
    """A SOAP 1.1 fault envelope (the refusal the harness uses for outages and injected errors)."""
    envelope = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soap": SOAP11_NS})
    body = etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body")
    fault = etree.SubElement(body, f"{{{SOAP11_NS}}}Fault")
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = reason
    return Response(_xml.to_bytes(envelope), status_code=status, media_type="text/xml; charset=utf-8")


def _envelope(payload: etree._Element) -> Response:
    envelope = etree.Element(f"{{{SOAP11_NS}}}Envelope", nsmap={"soap": SOAP11_NS})
    etree.SubElement(envelope, f"{{{SOAP11_NS}}}Body").append(payload)
    return Response(_xml.to_bytes(envelope), media_type="text/xml; charset=utf-8")


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z]", "", folded.upper())


def _parse_date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d%m%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date, no zone
        except ValueError:
            continue
    raise _Fault("soap:Client", f"DateOfBirth {text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


def _sub(parent: etree._Element, name: str, text: object = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{PNC_NS}}}{name}", attrs)
    if text is not None:
        element.text = str(text)
    return element


class PncDatabase:
    """The PNC's records: people with a PNC ID and every vehicle, indexed for enquiries."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._by_dob: dict[date, list[Person]] = defaultdict(list)
        for person in world.known_to_police:
            self._by_dob[person.date_of_birth].append(person)

    def person_by_pnc_id(self, pnc_id: str) -> Person | None:
        """The person with this PNC ID."""
        return self.world.people_by_pnc_id.get(pnc_id.strip().upper())

    def people_by_name(self, surname: str, forename: str | None, born: date) -> list[Person]:
        """People born on ``born`` whose names match, allowing spelling variants and nicknames."""
        wanted_family = _key(surname)
        wanted_given = _key(forename.split()[0]) if forename else None
        found = []
        for person in self._by_dob.get(born, []):
            families = {_key(person.family), *(_key(v) for v in spelling_variants(person.family))}
            if wanted_family not in families:
                continue
            if wanted_given:
                givens = {
                    _key(person.given),
                    *(_key(n) for n in nicknames(person.given)),
                    *(_key(v) for v in spelling_variants(person.given)),
                }
                if wanted_given not in givens and wanted_given != _key(person.given)[:1]:
                    continue
            found.append(person)
        return found[:MAX_MATCHES]

    def vehicle(self, vrm: str) -> Vehicle | None:
        """The vehicle with this registration (spaces and case ignored)."""
        return self.world.vehicles_by_vrm.get(re.sub(r"\s", "", vrm).upper())


def _person_element(parent: etree._Element, name: str, person: Person) -> etree._Element:
    record = _sub(parent, name)
    if person.pnc_id:
        _sub(record, "PNCId", person.pnc_id)
    _sub(record, "Surname", person.family.upper())
    _sub(record, "Forenames", person.forenames.upper())
    _sub(record, "DateOfBirth", person.date_of_birth.isoformat())
    _sub(record, "Sex", person.sex)
    address = _sub(record, "LastKnownAddress")
    for line in [*person.address.lines, person.address.town]:
        _sub(address, "Line", line)
    _sub(address, "Postcode", person.address.postcode)
    return record


def _person_record(parent: etree._Element, person: Person) -> None:
    record = _person_element(parent, "Person", person)
    if person.warnings:
        signals = _sub(record, "WarningSignals")
        for code in person.warnings:
            _sub(signals, "Warning", WARNING_SIGNALS[code].upper(), code=code)
    for marker in person.markers:
        _sub(
            record,
            "Wanted" if marker.kind == "wanted" else "Missing",
            marker.reason,
            force=marker.force,
            since=marker.since.isoformat(),
        )
    _sub(record, "Convictions", person.convictions)


class PncSimulator:
    """The enquiry service: parses a request, searches, answers, logs who asked and why."""

    def __init__(self, world: World) -> None:
        self.db = PncDatabase(world)
        self._transactions = 0

    def _transaction(self) -> str:
        self._transactions += 1
        return f"PNC{self._transactions:08d}"

    async def enquiry(self, request: Request) -> Response:
        """Answer one SOAP enquiry."""
        try:
            return self._answer(request, await request.body())
        except _Fault as fault:
            note(request, refused=fault.reason)
            return fault_response(fault.status, fault.reason, fault.code)

    def _answer(self, request: Request, body: bytes) -> Response:
        try:
            root = _xml.parse(body)
        except _xml.XmlRefusedError as exc:
            raise _Fault("soap:Client", str(exc)) from exc
        if root.tag != f"{{{SOAP11_NS}}}Envelope":
            ns = etree.QName(root).namespace or ""
            code = "soap:VersionMismatch" if _xml.local(root) == "Envelope" else "soap:Client"
            raise _Fault(code, f"expected a SOAP 1.1 Envelope, got {{{ns}}}{_xml.local(root)}")
        body_el = root.find(f"{{{SOAP11_NS}}}Body")
        payload = [e for e in body_el if isinstance(e.tag, str)] if body_el is not None else []
        if len(payload) != 1:
            raise _Fault("soap:Client", "the Body must hold exactly one enquiry")
        enquiry = payload[0]
        context = root.find(f"{{{SOAP11_NS}}}Header/{{{PNC_NS}}}EnquiryContext")

        def field(name: str) -> str | None:
            value = _xml.child_text(enquiry, name)
            if value is None and context is not None:
                value = _xml.child_text(context, name)
            return value

        user, reason, terminal = field("UserId"), field("ReasonCode"), field("Terminal")
        kind = _xml.local(enquiry)
        note(request, enquiry=kind, user=user, reason=reason, terminal=terminal)
        if not user:
            raise _Fault("soap:Client", "UserId is required: every PNC enquiry names the person making it")
        if reason not in REASON_CODES:
            raise _Fault("soap:Client", f"ReasonCode {reason!r} is not one of {sorted(REASON_CODES)}")
        note(request, reason_text=REASON_CODES[reason])
        if kind == "PersonEnquiry":
            return self._person(request, field)
        if kind == "VehicleEnquiry":
            return self._vehicle(request, field)
        raise _Fault("soap:Client", f"unknown enquiry {kind!r}: PersonEnquiry or VehicleEnquiry")

    def _person(self, request: Request, field: Any) -> Response:
        pnc_id, surname, forename, dob = (
            field("PNCId"),
            field("Surname"),
            field("Forename"),
            field("DateOfBirth"),
        )
        if pnc_id:
            if not valid_pnc_id(pnc_id):
                raise _Fault("soap:Client", f"PNCId {pnc_id!r} is not a PNC ID with a valid check character")
            found = self.db.person_by_pnc_id(pnc_id)
            people = [found] if found else []
            terms: dict[str, Any] = {"pnc_id": pnc_id}
        elif surname and dob:
            people = self.db.people_by_name(surname, forename, _parse_date(dob))
            terms = {"surname": surname, "forename": forename, "date_of_birth": dob}
        else:
            raise _Fault("soap:Client", "a PersonEnquiry needs PNCId, or Surname and DateOfBirth")
        transaction = self._transaction()
        note(request, terms=terms, matches=len(people), transaction_id=transaction)
        response = etree.Element(f"{{{PNC_NS}}}PersonEnquiryResponse", nsmap={None: PNC_NS})  # type: ignore[dict-item]
        _sub(response, "TransactionId", transaction)
        _sub(response, "Matches", len(people))
        for person in people:
            _person_record(response, person)
        return _envelope(response)

    def _vehicle(self, request: Request, field: Any) -> Response:
        vrm = field("VRM")
        if not vrm or not re.fullmatch(r"[A-Za-z0-9 ]{2,10}", vrm):
            raise _Fault("soap:Client", f"VRM {vrm!r} is not a registration mark")
        vehicle = self.db.vehicle(vrm)
        transaction = self._transaction()
        note(request, terms={"vrm": vrm}, matches=int(vehicle is not None), transaction_id=transaction)
        response = etree.Element(f"{{{PNC_NS}}}VehicleEnquiryResponse", nsmap={None: PNC_NS})  # type: ignore[dict-item]
        _sub(response, "TransactionId", transaction)
        _sub(response, "Matches", int(vehicle is not None))
        if vehicle is not None:
            record = _sub(response, "Vehicle")
            _sub(record, "VRM", vehicle.vrm)
            _sub(record, "Make", vehicle.make.upper())
            _sub(record, "Model", vehicle.model.upper())
            _sub(record, "Colour", vehicle.colour.upper())
            _sub(record, "FirstRegistered", vehicle.first_registered.isoformat())
            stolen = vehicle.stolen_since
            _sub(
                record,
                "ReportedStolen",
                "true" if stolen else "false",
                **({"since": stolen.isoformat()} if stolen else {}),
            )
            keeper = self.db.world.people_by_id[vehicle.keeper_id]
            _person_element(record, "Keeper", keeper)
        return _envelope(response)


def create_app(world: World | None = None, *, controls: SimControls | None = None) -> FastAPI:
    """The PNC simulator as an ASGI app."""
    world = world or World.build()
    controls = controls or SimControls("pnc", seed=world.seed)
    sim = PncSimulator(world)
    app = FastAPI(title="PNC simulator", description=__doc__)
    install_controls(app, controls, refusal=fault_response)
    app.state.pnc = sim

    @app.post(ENQUIRY_PATH)
    async def enquiry(request: Request) -> Response:
        return await sim.enquiry(request)

    @app.get("/_sim/enquiries")
    async def enquiries() -> dict[str, Any]:
        """Every enquiry that reached the PNC: who asked, why, for what, and what they got."""
        return {"enquiries": [e for e in controls.entries() if e["path"] == ENQUIRY_PATH]}

    return app
