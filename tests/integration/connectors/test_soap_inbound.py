"""The SOAP endpoint: hostile XML refused with clear faults while the hub keeps serving; XSD checks."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from contract_harness import SOAP11, RecordingIngest, SoapHarness, a_record, record_element, soap_request
from lxml import etree

from polestar.errors import ConfigError

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body><Record><ref>&xxe;</ref></Record></soap:Body>
</soap:Envelope>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Body><Record><ref>&lol9;</ref></Record></soap:Body>
</soap:Envelope>"""

# The DOCTYPE after a long comment, past the quick byte check: the parse-time check still refuses it.
LATE_DOCTYPE = (
    b"<?xml version='1.0'?><!--"
    + b"x" * 5000
    + b'--><!DOCTYPE r [<!ENTITY e "boom">]>'
    + soap_request(record_element({"ref": "late"})).split(b"?>", 1)[1]
)

STOP_SEARCH_XSD = b"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="urn:test:stop-search" xmlns="urn:test:stop-search" elementFormDefault="qualified">
  <xs:element name="StopSearch">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="ref" type="xs:string"/>
        <xs:element name="officer" type="xs:string"/>
        <xs:element name="searchedAt" type="xs:dateTime"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>"""


def fault_of(text: str, version: str = SOAP11) -> tuple[str, str]:
    fault = etree.fromstring(text.encode()).find(f"{{{version}}}Body/{{{version}}}Fault")
    assert fault is not None, text
    if version == SOAP11:
        return str(fault.findtext("faultcode")), str(fault.findtext("faultstring"))
    return (
        str(fault.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value")),
        str(fault.findtext(f"{{{SOAP12}}}Reason/{{{SOAP12}}}Text")),
    )


@pytest.fixture
async def soap(unique, tmp_path):
    async with SoapHarness(unique, tmp_path) as harness:
        yield harness


@pytest.mark.parametrize(
    "hostile", [XXE, BILLION_LAUGHS, LATE_DOCTYPE], ids=["xxe", "billion-laughs", "late"]
)
async def test_hostile_xml_is_refused_with_a_clear_fault_while_a_valid_request_is_served(
    soap, unique, hostile
):
    ingest = RecordingIngest()
    await soap.inbound().start(ingest)

    hostile_answer, valid_answer = await asyncio.gather(
        soap.send(hostile), soap.send(soap.message(a_record(unique)))
    )

    assert hostile_answer.status == 500
    code, reason = fault_of(hostile_answer.text)
    assert code == "soap:Client"
    assert "DOCTYPE declarations are not accepted" in reason
    assert "root:" not in hostile_answer.text  # nothing of /etc/passwd came back
    assert valid_answer.status == 200, valid_answer
    assert [record for _, record in ingest.accepted] == [a_record(unique)]


async def test_hostile_xml_storm_does_not_stop_the_hub_serving(soap, unique):
    ingest = RecordingIngest()
    await soap.inbound().start(ingest)
    answers = await asyncio.gather(*(soap.send(BILLION_LAUGHS) for _ in range(20)))
    assert {a.status for a in answers} == {500}
    assert (await soap.send(soap.message(a_record(unique)))).status == 200


async def test_accepted_request_is_answered_with_the_event_ids(soap, unique):
    ingest = RecordingIngest()
    await soap.inbound().start(ingest)
    answer = await soap.send(soap.message(a_record(unique)))
    assert answer.status == 200
    ids = etree.fromstring(answer.text.encode()).findall(".//{urn:polestar:soap:1}EventId")
    assert len(ids) == 1
    assert ids[0].text
    raw = ingest.accepted[0][0]
    assert raw.headers["soap-operation"] == "Record"
    assert raw.headers["soap-action"] == "urn:test:Submit"


async def test_payload_failing_the_xsd_is_refused_naming_each_problem(soap, unique, tmp_path):
    xsd = tmp_path / "stop-search.xsd"
    xsd.write_bytes(STOP_SEARCH_XSD)
    ingest = RecordingIngest()
    await soap.inbound(schema_path=xsd).start(ingest)

    ns = "urn:test:stop-search"
    payload = etree.Element(f"{{{ns}}}StopSearch", nsmap={None: ns})
    etree.SubElement(payload, f"{{{ns}}}ref").text = unique
    etree.SubElement(payload, f"{{{ns}}}searchedAt").text = "yesterday"
    answer = await soap.send(soap_request(payload))

    code, reason = fault_of(answer.text)
    assert code == "soap:Client"
    assert "does not satisfy stop-search.xsd" in reason
    assert "officer" in answer.text  # the missing element is named
    assert ingest.calls == []

    etree.SubElement(payload, f"{{{ns}}}officer").text = "PC 1234"
    payload.append(payload[1])  # move searchedAt after officer
    payload[2].text = "2026-11-24T10:15:00Z"
    good = await soap.send(soap_request(payload))
    assert good.status == 200, good.text
    assert ingest.records() == [{"ref": unique, "officer": "PC 1234", "searchedAt": "2026-11-24T10:15:00Z"}]


async def test_an_unreadable_xsd_is_a_clear_error_at_start(soap, tmp_path):
    broken = tmp_path / "broken.xsd"
    broken.write_text("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema'><xs:element/></xs:schema>")
    with pytest.raises(ConfigError, match="not a valid XSD"):
        await soap.inbound(schema_path=broken).start(RecordingIngest())
    with pytest.raises(ConfigError, match="cannot read the XSD"):
        await soap.inbound(schema_path=tmp_path / "missing.xsd").start(RecordingIngest())


async def test_soap_12_sender_faults_are_http_400(soap, unique):
    await soap.inbound().start(RecordingIngest())
    body = soap.message({"name": "no reference"}).replace(SOAP11.encode(), SOAP12.encode())
    answer = await soap.send(body, content_type="application/soap+xml; charset=utf-8")
    assert answer.status == 400
    code, reason = fault_of(answer.text, SOAP12)
    assert code == "soap:Sender"
    assert "ref is required" in reason


async def test_version_mismatch_wrong_media_type_and_unknown_connector(soap, unique):
    await soap.inbound().start(RecordingIngest())
    body = soap.message(a_record(unique))
    mismatch = await soap.send(body, content_type="application/soap+xml")
    assert mismatch.status == 400
    assert "VersionMismatch" in mismatch.text
    wrong = await soap.send(body, content_type="application/json")
    assert wrong.status == 415
    async with httpx.AsyncClient() as client:
        missing = await client.post(
            f"{soap.server.url}/soap/nobody", content=body, headers={"content-type": "text/xml"}
        )
    assert missing.status_code == 404
    assert "no SOAP connector named" in missing.text


async def test_records_inside_the_payload_each_become_a_record(soap, unique):
    ingest = RecordingIngest()
    await soap.inbound(record_element="Detainee").start(ingest)
    payload = etree.Element("CustodyBatch")
    for n in range(3):
        payload.append(record_element({"ref": f"{unique}-{n}"}, "Detainee"))
    answer = await soap.send(soap_request(payload))
    assert answer.status == 200, answer.text
    assert [r["ref"] for r in ingest.records()] == [f"{unique}-{n}" for n in range(3)]


async def test_an_oversized_body_is_refused_without_reading_it(soap):
    await soap.inbound(max_body_bytes=1024).start(RecordingIngest())
    answer = await soap.send(soap.message({"ref": "x" * 4096}))
    assert answer.status == 413


async def test_a_stopped_endpoint_answers_503_with_a_receiver_fault(soap, unique):
    connector = soap.inbound()
    await connector.start(RecordingIngest())
    await connector.stop()
    answer = await soap.send(soap.message(a_record(unique)))
    assert answer.status == 503
    assert fault_of(answer.text)[0] == "soap:Server"
