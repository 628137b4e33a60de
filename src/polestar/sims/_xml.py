"""Safe XML for the simulators that speak it (PNC, footwear): no DTDs, no entities, no network."""

from __future__ import annotations

from lxml import etree


class XmlRefusedError(ValueError):
    """The document is malformed or carries a DOCTYPE."""


def parse(data: bytes) -> etree._Element:
    """Parse ``data`` refusing DOCTYPEs (where XXE and entity bombs live) and malformed XML."""
    if b"<!doctype" in data[:4096].lower() or b"<!entity" in data[:4096].lower():
        raise XmlRefusedError("DOCTYPE declarations are not accepted")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise XmlRefusedError(f"malformed XML: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlRefusedError("DOCTYPE declarations are not accepted")
    return root


def local(element: etree._Element) -> str:
    """The element's name without its namespace."""
    return etree.QName(element).localname


def child_text(element: etree._Element, name: str) -> str | None:
    """Stripped text of the first child named ``name`` (any namespace), or ``None`` if absent/empty."""
    for child in element:
        if isinstance(child.tag, str) and local(child) == name:
            text = (child.text or "").strip()
            return text or None
    return None


def to_bytes(element: etree._Element) -> bytes:
    """``element`` serialised as a UTF-8 document."""
    return bytes(etree.tostring(element, xml_declaration=True, encoding="utf-8"))
