"""One outbound XML record is the document its mapping names, not one wrapped in ``<record>``."""

from __future__ import annotations

import pytest
from lxml import etree

from polestar.connectors.codecs import CodecOptions, RecordFormat
from polestar.connectors.encoding import encode_record

XML = RecordFormat.XML


def test_a_record_naming_its_root_element_is_that_document():
    body = encode_record({"FootwearSubject": {"@custodyRef": "01CX/1/26", "Surname": "OKAFOR"}}, XML)
    root = etree.fromstring(body)
    assert root.tag == "FootwearSubject"
    assert root.get("custodyRef") == "01CX/1/26"
    assert root.findtext("Surname") == "OKAFOR"
    assert b"<record" not in body


@pytest.mark.parametrize(
    "record",
    [{"name": "Jones"}, {"a": {"b": "1"}, "c": "2"}, {"@id": "7"}, {"#text": "x"}, {"list": [{"a": "1"}]}],
)
def test_other_records_are_wrapped_in_the_record_element(record):
    assert etree.fromstring(encode_record(record, XML, CodecOptions(xml_record="row"))).tag == "row"


def test_a_root_name_that_is_not_an_xml_name_is_a_value_error():
    with pytest.raises(ValueError, match="Invalid tag name"):
        encode_record({"not a name": {"a": "1"}}, XML)
