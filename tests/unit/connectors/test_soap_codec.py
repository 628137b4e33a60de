"""SOAP envelopes, faults and safe parsing, without a server."""

from __future__ import annotations

import pytest
from lxml import etree

from polestar.connectors.codecs import element_to_record
from polestar.connectors.soap.codec import (
    FaultCode,
    SoapFault,
    SoapVersion,
    accepted_envelope,
    build_envelope,
    fault_envelope,
    parse_xml,
    read_envelope,
    record_to_element,
)
from polestar.connectors.soap.outbound import retry_after_seconds
from polestar.errors import InboundRefused


@pytest.mark.parametrize(
    "document",
    [
        b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
        b'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://evil.example/r.dtd"><r/>',
        '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>'.encode("utf-16"),
    ],
    ids=["xxe", "external-dtd", "utf-16"],
)
def test_any_doctype_is_refused_with_a_clear_reason(document):
    with pytest.raises(InboundRefused, match="DOCTYPE declarations are not accepted") as refused:
        parse_xml(document, where="request 42")
    assert refused.value.where == "request 42"


def test_malformed_xml_is_refused_naming_the_problem():
    with pytest.raises(InboundRefused, match="malformed XML"):
        parse_xml(b"<r><unclosed></r>")


@pytest.mark.parametrize("version", list(SoapVersion))
def test_a_fault_round_trips_through_its_envelope(version):
    fault = SoapFault(
        FaultCode.SENDER, "2 record(s) rejected", details=("record 1: ref is required",), accepted=("e1",)
    )
    message = read_envelope(parse_xml(fault_envelope(version, fault)))
    assert message.version is version
    assert message.fault is not None
    assert message.fault.code is FaultCode.SENDER
    assert message.fault.reason == "2 record(s) rejected"
    assert message.fault.details == ("record 1: ref is required", "e1")


def test_soap_11_faults_are_always_http_500_and_soap_12_sender_faults_400():
    assert FaultCode.SENDER.http_status(SoapVersion.V11) == 500
    assert FaultCode.SENDER.http_status(SoapVersion.V12) == 400
    assert FaultCode.RECEIVER.http_status(SoapVersion.V12) == 500


def test_a_record_becomes_a_namespaced_payload_and_back():
    record = {"@version": "2", "Person": {"Surname": "Smith", "Forename": ["John", "Paul"]}, "Flag": True}
    element = record_to_element("PersonCheckRequest", record, namespace="urn:pnc:1")
    message = read_envelope(parse_xml(build_envelope(SoapVersion.V11, [element])))
    [payload] = message.body
    assert etree.QName(payload).namespace == "urn:pnc:1"
    assert element_to_record(payload) == {
        "@version": "2",
        "Person": {"Surname": "Smith", "Forename": ["John", "Paul"]},
        "Flag": "true",
    }


def test_accepted_answer_lists_the_event_ids():
    root = parse_xml(accepted_envelope(SoapVersion.V12, "StopSearch", ["a", "b"]))
    ids = [e.text for e in root.iter("{urn:polestar:soap:1}EventId")]
    assert ids == ["a", "b"]


def test_not_an_envelope_is_refused():
    with pytest.raises(InboundRefused, match="not a SOAP envelope"):
        read_envelope(parse_xml(b"<Envelope/>"))


@pytest.mark.parametrize(
    ("content_type", "version"),
    [
        ("text/xml; charset=utf-8", SoapVersion.V11),
        ('application/soap+xml; action="x"', SoapVersion.V12),
        ("application/json", None),
    ],
)
def test_the_version_is_read_from_the_content_type(content_type, version):
    assert SoapVersion.from_content_type(content_type) is version


def test_retry_after_accepts_seconds_and_http_dates():
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
