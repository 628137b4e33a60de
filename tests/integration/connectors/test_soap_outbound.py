"""The SOAP client (request/reply, the PNC shape) against a real local SOAP service."""

from __future__ import annotations

import asyncio

import pytest
from contract_harness import SOAP11, SoapHarness, a_record, outbound_message
from lxml import etree

from polestar.connectors.soap import SoapOutbound
from polestar.errors import DeliveryFailed, DeliveryRefused


def fault(code: str, reason: str) -> bytes:
    envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11})
    body_fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP11}}}Body"), f"{{{SOAP11}}}Fault")
    etree.SubElement(body_fault, "faultcode").text = code
    etree.SubElement(body_fault, "faultstring").text = reason
    etree.SubElement(etree.SubElement(body_fault, "detail"), "Why").text = "PNC ID check character wrong"
    return bytes(etree.tostring(envelope))


@pytest.fixture
async def soap(unique, tmp_path):
    async with SoapHarness(unique, tmp_path) as harness:
        yield harness


@pytest.fixture
async def client(soap):
    connector = SoapOutbound("pnc", soap.outbound_config(reference_field="RecordStored.Reference", timeout=2))
    await connector.start()
    yield connector
    await connector.stop()


async def test_a_person_check_returns_the_reply_body_as_the_receipt(soap, client, unique):
    receipt = await client.deliver(outbound_message(a_record(unique), target="urn:pnc:PersonCheck"))
    assert receipt.response == {"RecordStored": {"Reference": f"REF-{unique}", "Status": "STORED"}}
    assert receipt.reference == f"REF-{unique}"
    headers, body = soap.service.bodies[0]
    assert headers["soapaction"] == '"urn:pnc:PersonCheck"'
    assert headers["content-type"].startswith("text/xml")
    assert b"<Record>" in body


async def test_a_client_fault_is_refused_for_good(soap, client, unique):
    soap.service.reply = lambda _: (500, fault("soap:Client", "invalid PNC ID"), {})
    with pytest.raises(DeliveryRefused, match=r"invalid PNC ID.*check character"):
        await client.deliver(outbound_message(a_record(unique)))


async def test_a_server_fault_is_retried_after_retry_after(soap, client, unique):
    soap.service.reply = lambda _: (500, fault("soap:Server", "PNC busy"), {"Retry-After": "30"})
    with pytest.raises(DeliveryFailed, match="PNC busy") as failure:
        await client.deliver(outbound_message(a_record(unique)))
    assert failure.value.retry_after == 30


async def test_a_proxy_error_page_is_retried(soap, client, unique):
    page = b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>"
    soap.service.reply = lambda _: (503, page, {"Retry-After": "5"})
    with pytest.raises(DeliveryFailed) as failure:
        await client.deliver(outbound_message(a_record(unique)))
    assert failure.value.retry_after == 5


async def test_a_hostile_reply_is_refused_not_parsed(soap, client, unique):
    hostile = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    soap.service.reply = lambda _: (200, hostile, {})
    with pytest.raises(DeliveryRefused, match="DOCTYPE"):
        await client.deliver(outbound_message(a_record(unique)))


async def test_a_slow_service_times_out_as_delivery_failed(soap, client, unique):
    async def slow(_):
        await asyncio.sleep(5)  # a hung legacy system
        return 200, b"", {}

    soap.service.reply = slow
    async with asyncio.timeout(10):
        with pytest.raises(DeliveryFailed, match="no reply within the timeout"):
            await client.deliver(outbound_message(a_record(unique)))


async def test_soap_12_sends_the_action_in_the_content_type(soap, unique):
    connector = SoapOutbound("pnc", soap.outbound_config(version="1.2"))
    await connector.start()
    soap.service.reply = lambda _: (200, fault("soap:Server", "unused"), {})
    with pytest.raises(DeliveryFailed):
        await connector.deliver(outbound_message(a_record(unique)))
    await connector.stop()
    headers, body = soap.service.bodies[0]
    assert headers["content-type"] == 'application/soap+xml; charset=utf-8; action="urn:test:Store"'
    assert b"http://www.w3.org/2003/05/soap-envelope" in body
