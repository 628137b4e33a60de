"""The registry of connector kinds and the validation of configured connectors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from polestar.connectors.contract import ConnectorKind
from polestar.connectors.file import FileInbound, FileInboundConfig
from polestar.connectors.registry import ConnectorRegistry, default_registry
from polestar.connectors.spec import validate_connector_specs


class EchoConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str


class EchoOutbound:
    def __init__(self, name: str, config: EchoConfig) -> None:
        self.name = name
        self.config = config


ECHO = ConnectorKind(name="echo", inbound_config=None, outbound_config=EchoConfig, outbound=EchoOutbound)


def test_an_empty_registry_names_no_kinds_and_says_so():
    registry = ConnectorRegistry()
    assert registry.kinds() == ()
    with pytest.raises(LookupError, match="known kinds: none registered"):
        registry.kind("file")


def test_a_kind_is_registered_once_and_unknown_kinds_list_the_known_ones():
    registry = ConnectorRegistry()
    registry.register(ECHO)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(ECHO)
    with pytest.raises(LookupError, match="unknown connector kind 'ehco'; known kinds: echo"):
        registry.kind("ehco")


def test_the_default_registry_lists_every_built_in_kind_and_imports_on_demand():
    registry = default_registry()
    assert {"file", "http", "soap", "nats", "amqp", "mqtt", "email"} <= set(registry.kinds())
    assert registry.kind("file").inbound_config is FileInboundConfig
    assert registry.kind("http").outbound_config is not None


def test_a_kind_whose_extra_is_missing_is_listed_and_says_what_to_install():
    registry = ConnectorRegistry()
    registry.register_lazy("carrier-pigeon", "polestar_no_such_module.pigeon:KIND", extra="pigeon")
    assert "carrier-pigeon" in registry.kinds()
    with pytest.raises(ImportError, match=r"install polestar\[pigeon\]"):
        registry.kind("carrier-pigeon")


def test_specs_validate_each_side_against_the_kind_and_build_connectors(tmp_path):
    registry = ConnectorRegistry()
    registry.register(ECHO)
    registry.register_lazy("file", "polestar.connectors.file:KIND")
    [files, echo] = validate_connector_specs(
        [
            {
                "name": "custody-files",
                "kind": "file",
                "format": "csv",
                "mapping": {"inbound": "custody-csv"},
                "inbound": {"folder": str(tmp_path)},
            },
            {"name": "echo-out", "kind": "echo", "outbound": {"topic": "x"}},
        ],
        registry,
    )
    assert isinstance(files.inbound, FileInboundConfig)
    assert files.inbound.folder == Path(tmp_path)
    assert isinstance(echo.outbound, EchoConfig)
    connector = registry.build_inbound(files)
    assert isinstance(connector, FileInbound)
    assert connector.name == "custody-files"
    assert isinstance(registry.build_outbound(echo), EchoOutbound)


def test_every_problem_is_reported_with_its_path_in_the_list():
    registry = ConnectorRegistry()
    registry.register(ECHO)
    registry.register_lazy("file", "polestar.connectors.file:KIND")
    raw = [
        {"name": "Custody Files", "kind": "file", "inbound": {"folder": "/x"}, "mapping": {"inbound": "m"}},
        {
            "name": "ok",
            "kind": "file",
            "inbound": {"folder": "/x", "poll_interval": -1, "colour": "red"},
            "mapping": {"inbound": "m"},
        },
        {"name": "ok", "kind": "echo", "inbound": {"topic": "x"}},
        {"name": "nope", "kind": "telepathy", "outbound": {}},
        {"name": "unmapped", "kind": "file", "inbound": {"folder": "/x"}},
        {"name": "empty", "kind": "echo"},
        {"name": "subj", "kind": "echo", "subject": "bad subject!", "outbound": {"topic": "t"}},
    ]
    with pytest.raises(ValidationError) as caught:
        validate_connector_specs(raw, registry)
    problems = {tuple(e["loc"]): e["msg"] for e in caught.value.errors()}
    assert set(problems) == {
        (0, "name"),
        (1, "inbound", "poll_interval"),
        (1, "inbound", "colour"),
        (2, "name"),
        (2, "inbound"),
        (3, "kind"),
        (4, "mapping"),
        (5,),
        (6, "subject"),
    }
    assert "already defined at [1]" in problems[(2, "name")]
    assert "a echo connector has no inbound side" in problems[(2, "inbound")]
    assert "known kinds: echo, file" in problems[(3, "kind")]
    assert "greater than 0" in problems[(1, "inbound", "poll_interval")]
