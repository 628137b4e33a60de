"""Safe XML everywhere: every parser in the hub refuses entities, DTDs and the network."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from polestar.connectors.codecs import RecordFormat, decode
from polestar.connectors.soap.codec import parse_xml
from polestar.errors import InboundRefused

SRC = Path(__file__).parents[3] / "src" / "polestar"
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><l>&c;</l>'
)
PARSE_CALLS = {"fromstring", "parse", "XML", "iterparse", "fromstringlist"}
UNSAFE_MODULES = {"xml.etree.ElementTree", "xml.dom.minidom", "xml.sax", "xml.dom.pulldom"}


def _python_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_the_connector_codec_refuses_entity_tricks(payload: bytes) -> None:
    with pytest.raises(InboundRefused):
        decode(payload, RecordFormat.XML, where="test")


@pytest.mark.parametrize("payload", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_the_soap_codec_refuses_entity_tricks(payload: bytes) -> None:
    with pytest.raises(InboundRefused):
        parse_xml(payload, where="test")


def test_no_module_parses_xml_with_the_standard_librarys_unsafe_parsers() -> None:
    offenders = []
    for path in _python_files():
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                unsafe = [a.name for a in node.names if a.name in UNSAFE_MODULES]
            elif isinstance(node, ast.ImportFrom) and node.module in UNSAFE_MODULES:
                # Types (Element) are harmless; the parsing functions are not.
                unsafe = [a.name for a in node.names if a.name in PARSE_CALLS | {"XMLParser", "parseString"}]
            else:
                continue
            offenders.extend(f"{path.relative_to(SRC)}:{node.lineno} imports {n}" for n in unsafe)
    assert offenders == []


def test_every_lxml_parse_names_a_parser_and_every_parser_is_hardened() -> None:
    problems = []
    for path in _python_files():
        text = path.read_text("utf-8")
        if "lxml" not in text:
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
            if owner != "etree":
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            keywords = {k.arg: k.value for k in node.keywords}
            if node.func.attr in PARSE_CALLS and len(node.args) < 2 and "parser" not in keywords:
                problems.append(f"{where}: etree.{node.func.attr} without a hardened parser")
            if node.func.attr == "XMLParser":
                for flag, wanted in (("resolve_entities", False), ("no_network", True), ("huge_tree", False)):
                    value = keywords.get(flag)
                    if not isinstance(value, ast.Constant) or value.value is not wanted:
                        problems.append(f"{where}: XMLParser needs {flag}={wanted}")
    assert problems == []
