"""SOAP 1.1 / 1.2 envelopes and faults, XML parsed safely, and XML elements as records.

Safety: every document is parsed with entities left unresolved, no DTD
loading, no network and libxml2's size limits on (``huge_tree=False``), and
any document carrying a DOCTYPE is refused outright. A DOCTYPE is where
external entities (XXE) and entity-expansion bombs (billion laughs) are
declared, and no SOAP message needs one (SOAP 1.1 and 1.2 both forbid it).

Records follow the mapping contract's convention (``element_to_record`` from
the shared codecs): children by local name, ``@attr``, ``#text``;
``record_to_element`` is its inverse, with a namespace for the payload.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lxml import etree

from polestar.errors import InboundRefused

SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
POLESTAR_NS = "urn:polestar:soap:1"
"""Namespace of the hub's own answers (accepted event ids, rejections)."""

_DOCTYPE_REFUSED = (
    "DOCTYPE declarations are not accepted: they are where external entities (XXE) and "
    "entity-expansion bombs are declared, and SOAP forbids them"
)


class SoapVersion(StrEnum):
    """The two SOAP versions, each with its own namespace, media type and fault shape."""

    V11 = "1.1"
    V12 = "1.2"

    @property
    def namespace(self) -> str:
        """The envelope namespace."""
        return SOAP11_NS if self is SoapVersion.V11 else SOAP12_NS

    def content_type(self, action: str | None = None) -> str:
        """The request/response media type; SOAP 1.2 carries the action as a parameter."""
        if self is SoapVersion.V11:
            return "text/xml; charset=utf-8"
        suffix = f'; action="{action}"' if action else ""
        return f"application/soap+xml; charset=utf-8{suffix}"

    @classmethod
    def from_content_type(cls, content_type: str | None) -> SoapVersion | None:
        """The version a media type announces, or ``None`` when it is not a SOAP one."""
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if media == "application/soap+xml":
            return cls.V12
        if media in {"text/xml", "application/xml"}:
            return cls.V11
        return None

    @classmethod
    def from_namespace(cls, namespace: str | None) -> SoapVersion | None:
        """The version whose envelope namespace is ``namespace``."""
        return {SOAP11_NS: cls.V11, SOAP12_NS: cls.V12}.get(namespace or "")


class FaultCode(StrEnum):
    """Who is at fault: the sender (SOAP 1.1 ``Client``) or the receiver (``Server``)."""

    SENDER = "Sender"
    RECEIVER = "Receiver"

    def qname(self, version: SoapVersion) -> str:
        """The fault code as written in ``version``'s envelope (prefix ``soap``)."""
        if version is SoapVersion.V11:
            return "soap:Client" if self is FaultCode.SENDER else "soap:Server"
        return f"soap:{self.value}"

    def http_status(self, version: SoapVersion) -> int:
        """SOAP 1.1 answers every fault with 500; SOAP 1.2 answers sender faults with 400."""
        if version is SoapVersion.V12 and self is FaultCode.SENDER:
            return 400
        return 500


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A SOAP fault: who is at fault, a readable reason, and detail lines."""

    code: FaultCode
    reason: str
    details: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    """Event ids accepted before the fault (a partially accepted request)."""


@dataclass(frozen=True, slots=True)
class SoapMessage:
    """A parsed envelope: its version, and the elements of its Header and Body."""

    version: SoapVersion
    headers: tuple[etree._Element, ...]
    body: tuple[etree._Element, ...]
    fault: SoapFault | None = None


def safe_parser() -> etree.XMLParser:
    """A parser that resolves no entities, loads no DTD, reaches no network, keeps size limits."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, *, where: str | None = None) -> etree._Element:
    """Parse ``data`` safely; raise ``InboundRefused`` for a DOCTYPE or malformed XML."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise InboundRefused(_DOCTYPE_REFUSED, where=where)
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise InboundRefused(f"malformed XML: {exc}", where=where) from exc
    docinfo = root.getroottree().docinfo
    # The byte check above misses a DOCTYPE after a long prolog or in UTF-16; this does not.
    has_dtd = docinfo.internalDTD is not None or docinfo.externalDTD is not None
    if has_dtd or getattr(docinfo, "doctype", None):
        raise InboundRefused(_DOCTYPE_REFUSED, where=where)
    return root


def local_name(element: etree._Element) -> str:
    """The element's name without its namespace."""
    return etree.QName(element).localname


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def record_to_element(name: str, record: Any, *, namespace: str | None = None) -> etree._Element:
    """A record as an element named ``name`` (in ``namespace``), the inverse of ``element_to_record``."""
    tag = etree.QName(namespace, name).text if namespace else name
    nsmap: Any = {None: namespace} if namespace else None  # the stubs do not allow the default prefix
    element = etree.Element(tag, nsmap=nsmap)
    _fill(element, record, namespace)
    return element


def _fill(element: etree._Element, record: Any, namespace: str | None) -> None:
    if not isinstance(record, Mapping):
        element.text = _text(record)
        return
    for key, value in record.items():
        if key.startswith("@"):
            element.set(key[1:], _text(value))
        elif key == "#text":
            element.text = _text(value)
        else:
            for item in value if isinstance(value, list) else [value]:
                tag = etree.QName(namespace, key).text if namespace else key
                _fill(etree.SubElement(element, tag), item, namespace)


def build_envelope(
    version: SoapVersion,
    body: Iterable[etree._Element],
    headers: Iterable[etree._Element] = (),
) -> bytes:
    """A complete envelope around copies of ``body`` (and ``headers``) elements, UTF-8 encoded."""
    ns = version.namespace
    envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    header_elements = list(headers)
    if header_elements:
        header = etree.SubElement(envelope, f"{{{ns}}}Header")
        header.extend(copy.deepcopy(h) for h in header_elements)
    body_element = etree.SubElement(envelope, f"{{{ns}}}Body")
    body_element.extend(copy.deepcopy(b) for b in body)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def fault_envelope(version: SoapVersion, fault: SoapFault) -> bytes:
    """An envelope carrying ``fault``, details and accepted ids in a ``ps:Problems`` detail."""
    ns = version.namespace
    detail_problems = etree.Element(f"{{{POLESTAR_NS}}}Problems", nsmap={"ps": POLESTAR_NS})
    for line in fault.details:
        etree.SubElement(detail_problems, f"{{{POLESTAR_NS}}}Problem").text = line
    for event_id in fault.accepted:
        etree.SubElement(detail_problems, f"{{{POLESTAR_NS}}}AcceptedEventId").text = event_id
    fault_element = etree.Element(f"{{{ns}}}Fault", nsmap={"soap": ns})
    if version is SoapVersion.V11:
        # SOAP 1.1 fault children are unqualified.
        etree.SubElement(fault_element, "faultcode").text = fault.code.qname(version)
        etree.SubElement(fault_element, "faultstring").text = fault.reason
        if len(detail_problems):
            etree.SubElement(fault_element, "detail").append(detail_problems)
    else:
        code = etree.SubElement(fault_element, f"{{{ns}}}Code")
        etree.SubElement(code, f"{{{ns}}}Value").text = fault.code.qname(version)
        reason = etree.SubElement(fault_element, f"{{{ns}}}Reason")
        text = etree.SubElement(reason, f"{{{ns}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = fault.reason
        if len(detail_problems):
            etree.SubElement(fault_element, f"{{{ns}}}Detail").append(detail_problems)
    return build_envelope(version, [fault_element])


def accepted_envelope(version: SoapVersion, operation: str, event_ids: Sequence[str]) -> bytes:
    """The hub's answer to an accepted request: ``ps:<operation>Response`` listing event ids."""
    response = etree.Element(f"{{{POLESTAR_NS}}}{operation}Response", nsmap={"ps": POLESTAR_NS})
    accepted = etree.SubElement(response, f"{{{POLESTAR_NS}}}Accepted")
    accepted.set("count", str(len(event_ids)))
    for event_id in event_ids:
        etree.SubElement(accepted, f"{{{POLESTAR_NS}}}EventId").text = event_id
    return build_envelope(version, [response])


def read_envelope(root: etree._Element, *, where: str | None = None) -> SoapMessage:
    """Split a parsed envelope into header and body elements; read a fault if the body is one."""
    qname = etree.QName(root)
    version = SoapVersion.from_namespace(qname.namespace)
    if qname.localname != "Envelope" or version is None:
        raise InboundRefused(
            f"not a SOAP envelope: root element is {{{qname.namespace or ''}}}{qname.localname}",
            where=where,
        )
    ns = version.namespace
    body = root.find(f"{{{ns}}}Body")
    if body is None:
        raise InboundRefused("the SOAP envelope has no Body", where=where)
    header = root.find(f"{{{ns}}}Header")
    headers = tuple(h for h in header if isinstance(h.tag, str)) if header is not None else ()
    payload = tuple(b for b in body if isinstance(b.tag, str))
    fault = None
    if len(payload) == 1 and payload[0].tag == f"{{{ns}}}Fault":
        fault = _read_fault(version, payload[0])
    return SoapMessage(version=version, headers=headers, body=payload, fault=fault)


def _read_fault(version: SoapVersion, element: etree._Element) -> SoapFault:
    ns = version.namespace
    if version is SoapVersion.V11:
        code_text = element.findtext("faultcode") or element.findtext(f"{{{ns}}}faultcode") or ""
        reason = element.findtext("faultstring") or element.findtext(f"{{{ns}}}faultstring") or ""
        detail = element.find("detail")
        sender = code_text.rsplit(":", 1)[-1].split(".", 1)[0] == "Client"
    else:
        code_text = element.findtext(f"{{{ns}}}Code/{{{ns}}}Value") or ""
        reason = element.findtext(f"{{{ns}}}Reason/{{{ns}}}Text") or ""
        detail = element.find(f"{{{ns}}}Detail")
        sender = code_text.rsplit(":", 1)[-1] == "Sender"
    details = tuple(
        " ".join(str(t).split()) for t in (detail.itertext() if detail is not None else ()) if t.strip()
    )
    return SoapFault(
        code=FaultCode.SENDER if sender else FaultCode.RECEIVER,
        reason=reason.strip() or code_text or "SOAP fault without a reason",
        details=details,
    )
