"""Configuration of the ``soap`` connector kind: SOAP/XML over HTTP, the shape of legacy national systems."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

SoapVersionName = Literal["1.1", "1.2"]


class SoapInboundConfig(BaseModel):
    """A SOAP endpoint the hub serves at ``POST /soap/{connector}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    versions: tuple[SoapVersionName, ...] = Field(
        default=("1.1", "1.2"),
        min_length=1,
        description="SOAP versions accepted; the version is read from the request's Content-Type.",
        examples=[["1.1"], ["1.1", "1.2"]],
    )
    schema_path: Path | None = Field(
        default=None,
        description=(
            "XSD the Body payload element must satisfy; loaded when the connector starts. "
            "Relative imports and includes are resolved next to it; nothing is fetched from the network."
        ),
        examples=["examples/xsd/stop-search.xsd"],
    )
    record_element: str | None = Field(
        default=None,
        description=(
            "Local name of a repeated child of the payload element whose every occurrence is one "
            "record; unset, the payload element itself is the one record."
        ),
        examples=["Record", "Detainee"],
    )
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024, gt=0, le=64 * 1024 * 1024, description="Largest request accepted."
    )
    parse_in_thread_over: int = Field(
        default=64 * 1024,
        ge=0,
        description="Bodies larger than this are parsed and validated off the event loop.",
    )


class SoapOutboundConfig(BaseModel):
    """A SOAP service the hub calls: one envelope per message, the reply parsed safely."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl = Field(
        description="The service endpoint.", examples=["https://pnc.example.police.uk/soap/PersonCheck"]
    )
    version: SoapVersionName = Field(default="1.1", description="SOAP version spoken.")
    action: str | None = Field(
        default=None,
        description=(
            "SOAPAction (1.1 header) or action parameter (1.2); a route's target overrides it per message."
        ),
        examples=["urn:pnc:PersonCheck"],
    )
    payload_element: str | None = Field(
        default=None,
        description=(
            "Element name a JSON body (a record) is wrapped in; XML bodies are sent as the payload "
            "element as they are, and a body that is already an Envelope is sent unchanged."
        ),
        examples=["PersonCheckRequest"],
    )
    payload_namespace: str | None = Field(
        default=None, description="Namespace of ``payload_element``.", examples=["urn:pnc:person:1"]
    )
    reference_field: str | None = Field(
        default=None,
        description="Dotted path in the reply record to return as the delivery reference.",
        examples=["PersonCheckResponse.TransactionId"],
    )
    timeout: float = Field(default=10.0, gt=0, le=300, description="Seconds to wait for the reply.")
    connect_timeout: float = Field(default=3.0, gt=0, le=60, description="Seconds to connect.")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Extra HTTP headers (never secrets: those come from the environment).",
        examples=[{"X-Force": "MET"}],
    )
    max_reply_bytes: int = Field(
        default=4 * 1024 * 1024, gt=0, description="Largest reply accepted; larger ones are refused."
    )
