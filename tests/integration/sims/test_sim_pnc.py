"""The PNC simulator: SOAP enquiries, faults, the enquiry log, outage; the hub's SOAP client against it."""

import json

import httpx
import pytest
from lxml import etree

from polestar.connectors.contract import OutboundMessage
from polestar.connectors.soap import SoapOutbound, SoapOutboundConfig
from polestar.errors import DeliveryFailed, DeliveryRefused
from polestar.model import Envelope
from polestar.sims import pnc
from polestar.sims.serving import serve
from polestar.sims.synthetic import World

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
NS = {"soap": SOAP, "p": pnc.PNC_NS}


@pytest.fixture(scope="module")
def world():
    return World.build(21, people=600, vehicles=300)


@pytest.fixture
async def client(world):
    app = pnc.create_app(world)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pnc") as c:
        yield c


def envelope(kind, fields, context=None):
    header = ""
    if context:
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in context.items())
        header = f'<soap:Header><EnquiryContext xmlns="{pnc.PNC_NS}">{inner}</EnquiryContext></soap:Header>'
    body = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}">{header}<soap:Body>'
        f'<{kind} xmlns="{pnc.PNC_NS}">{body}</{kind}></soap:Body></soap:Envelope>'
    ).encode()


async def enquire(client, kind, fields, context=None):
    response = await client.post(
        pnc.ENQUIRY_PATH,
        content=envelope(kind, fields, context),
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"urn:pnc:{kind}"'},
    )
    return response, etree.fromstring(response.content)


def wanted_person(world):
    return next(p for p in world.known_to_police if any(m.kind == "wanted" for m in p.markers))


async def test_a_person_enquiry_by_pnc_id_returns_markers_and_warnings(client, world):
    person = next(p for p in world.known_to_police if p.warnings)
    response, root = await enquire(
        client, "PersonEnquiry", {"UserId": "PC4471", "ReasonCode": "2", "PNCId": person.pnc_id}
    )
    assert response.status_code == 200
    assert root.findtext(".//p:Matches", namespaces=NS) == "1"
    assert root.findtext(".//p:Person/p:Surname", namespaces=NS) == person.family.upper()
    codes = [w.get("code") for w in root.iterfind(".//p:WarningSignals/p:Warning", NS)]
    assert codes == list(person.warnings)

    wanted = wanted_person(world)
    _, root = await enquire(
        client, "PersonEnquiry", {"UserId": "PC4471", "ReasonCode": "7", "PNCId": wanted.pnc_id}
    )
    assert root.find(".//p:Person/p:Wanted", NS) is not None


async def test_a_name_enquiry_finds_the_person_by_nickname_and_date_of_birth(client, world):
    person = next(p for p in world.known_to_police if p.given == "Robert" or p.given == "William")
    nickname = {"Robert": "Bob", "William": "Bill"}[person.given]
    _, root = await enquire(
        client,
        "PersonEnquiry",
        {
            "Surname": person.family.lower(),
            "Forename": nickname,
            "DateOfBirth": person.date_of_birth.strftime("%d/%m/%Y"),
        },
        context={"UserId": "PC4471", "ReasonCode": "1", "Terminal": "IVMA-CX21"},
    )
    pnc_ids = [e.text for e in root.iterfind(".//p:Person/p:PNCId", NS)]
    assert person.pnc_id in pnc_ids


async def test_a_vehicle_enquiry_returns_keeper_and_stolen_report(client, world):
    vehicle = next(v for v in world.vehicles if v.stolen_since)
    keeper = world.people_by_id[vehicle.keeper_id]
    _, root = await enquire(
        client,
        "VehicleEnquiry",
        {"UserId": "PC4471", "ReasonCode": "3", "VRM": vehicle.vrm.replace(" ", "").lower()},
    )
    assert root.findtext(".//p:Vehicle/p:VRM", namespaces=NS) == vehicle.vrm
    assert root.findtext(".//p:ReportedStolen", namespaces=NS) == "true"
    assert root.findtext(".//p:Keeper/p:Surname", namespaces=NS) == keeper.family.upper()
    _, root = await enquire(
        client, "VehicleEnquiry", {"UserId": "PC4471", "ReasonCode": "3", "VRM": "ZZ99 ZZZ"}
    )
    assert root.findtext(".//p:Matches", namespaces=NS) == "0"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"ReasonCode": "2", "PNCId": "2012/0052494Q"}, "UserId is required"),
        ({"UserId": "PC1", "ReasonCode": "99", "PNCId": "2012/0052494Q"}, "ReasonCode '99'"),
        ({"UserId": "PC1", "ReasonCode": "2", "PNCId": "2012/0052494R"}, "valid check character"),
        ({"UserId": "PC1", "ReasonCode": "2", "Surname": "SMITH"}, "needs PNCId, or Surname and DateOfBirth"),
    ],
)
async def test_a_bad_enquiry_is_a_client_fault(client, fields, reason):
    response, root = await enquire(client, "PersonEnquiry", fields)
    assert response.status_code == 500
    assert root.findtext(".//faultcode") == "soap:Client"
    assert reason in root.findtext(".//faultstring")


async def test_a_doctype_is_refused(client):
    body = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'
    response = await client.post(pnc.ENQUIRY_PATH, content=body, headers={"Content-Type": "text/xml"})
    assert response.status_code == 500
    assert b"DOCTYPE" in response.content


async def test_every_enquiry_is_logged_with_who_asked_and_why(client, world):
    person = world.known_to_police[0]
    await enquire(client, "PersonEnquiry", {"UserId": "PC4471", "ReasonCode": "5", "PNCId": person.pnc_id})
    await enquire(client, "PersonEnquiry", {"ReasonCode": "5", "PNCId": person.pnc_id})
    log = (await client.get("/_sim/enquiries")).json()["enquiries"]
    answered, refused = log[-2]["detail"], log[-1]["detail"]
    assert answered["user"] == "PC4471"
    assert answered["reason_text"] == "custody reception"
    assert answered["terms"] == {"pnc_id": person.pnc_id}
    assert answered["matches"] == 1
    assert answered["transaction_id"].startswith("PNC")
    assert refused["refused"].startswith("UserId is required")


async def test_the_outage_switch_answers_503_until_it_is_off(client, world):
    fields = {"UserId": "PC4471", "ReasonCode": "2", "PNCId": world.known_to_police[0].pnc_id}
    assert (await client.post("/_sim/outage", json={"on": True, "retry_after": 7})).json()["outage"] is True
    response, root = await enquire(client, "PersonEnquiry", fields)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert root.findtext(".//faultcode") == "soap:Server"
    await client.post("/_sim/outage", json={"on": False})
    response, _ = await enquire(client, "PersonEnquiry", fields)
    assert response.status_code == 200
    outcomes = [e["outcome"] for e in (await client.get("/_sim/log")).json()["entries"]]
    assert outcomes[-2:] == ["outage", "answered"]


async def test_injected_errors_and_latency_follow_the_settings(client, world):
    fields = {"UserId": "PC4471", "ReasonCode": "2", "PNCId": world.known_to_police[0].pnc_id}
    await client.post("/_sim/errors", json={"rate": 1.0, "status": 502})
    response, _ = await enquire(client, "PersonEnquiry", fields)
    assert response.status_code == 502
    await client.post("/_sim/errors", json={"rate": 0.0})
    await client.post("/_sim/latency", json={"fixed_ms": 60, "jitter_ms": 10})
    await enquire(client, "PersonEnquiry", fields)
    assert (await client.get("/_sim/log", params={"limit": 1})).json()["entries"][0]["ms"] >= 60
    bad = await client.post("/_sim/errors", json={"rate": 2})
    assert bad.status_code == 422


def message(record):
    envelope = Envelope(source="/tests/sims", type="person.check.requested", subject="check")
    return OutboundMessage(
        envelope=envelope,
        body=json.dumps(record).encode(),
        content_type="application/json",
        target="urn:pnc:PersonEnquiry",
    )


async def test_the_hubs_soap_client_checks_a_person_and_recovers_after_an_outage(world):
    person = world.known_to_police[3]
    app = pnc.create_app(world)
    async with serve(app) as url:
        config = SoapOutboundConfig(
            url=f"{url}{pnc.ENQUIRY_PATH}",
            payload_element="PersonEnquiry",
            payload_namespace=pnc.PNC_NS,
            reference_field="PersonEnquiryResponse.TransactionId",
            timeout=2,
        )
        connector = SoapOutbound("pnc", config)
        await connector.start()
        try:
            record = {"UserId": "PC4471", "ReasonCode": "2", "PNCId": person.pnc_id}
            receipt = await connector.deliver(message(record))
            assert receipt.response["PersonEnquiryResponse"]["Person"]["PNCId"] == person.pnc_id
            assert receipt.reference.startswith("PNC")

            app.state.sim.outage = True
            with pytest.raises(DeliveryFailed, match="unavailable"):
                await connector.deliver(message(record))
            app.state.sim.outage = False
            assert (await connector.deliver(message(record))).response["PersonEnquiryResponse"][
                "Matches"
            ] == "1"

            with pytest.raises(DeliveryRefused, match="UserId is required"):
                await connector.deliver(message({"ReasonCode": "2", "PNCId": person.pnc_id}))
        finally:
            await connector.stop()
