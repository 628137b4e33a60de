"""The SOAP endpoint: ``POST /soap/{connector}`` takes an envelope, hands its payload to the hub.

The hub mounts one router for every SOAP connector::

    endpoints = {"custody-soap": SoapInbound("custody-soap", config)}
    app.include_router(create_soap_router(endpoints))

A request is answered only after ``Ingest`` returned (the events are durable).
What the sender gets back:

=====================================  =========================================================
outcome                                answer
=====================================  =========================================================
every record accepted                  200, ``ps:<Operation>Response`` listing the event ids
a DOCTYPE, malformed XML, not SOAP     Sender/Client fault naming the problem
payload fails the XSD                  Sender/Client fault, one detail line per schema error
records rejected by mapping            Sender/Client fault listing them, with ids accepted
hub cannot take it now                 Receiver/Server fault: the sender should retry
=====================================  =========================================================

SOAP 1.1 answers every fault with HTTP 500, SOAP 1.2 answers sender faults
with 400 and receiver faults with 500; a connector that is not running answers
503 and an oversized body 413.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from lxml import etree

from polestar.connectors.codecs import element_to_record
from polestar.connectors.contract import Ingest, IngestResult, RawMessage
from polestar.connectors.soap.codec import (
    FaultCode,
    SoapFault,
    SoapVersion,
    accepted_envelope,
    fault_envelope,
    local_name,
    parse_xml,
    read_envelope,
    safe_parser,
)
from polestar.connectors.soap.config import SoapInboundConfig
from polestar.errors import ConfigError, InboundRefused

logger = logging.getLogger(__name__)

WSA_MESSAGE_ID = "{http://www.w3.org/2005/08/addressing}MessageID"
MAX_SCHEMA_ERRORS = 20


@dataclass(frozen=True, slots=True)
class SoapReply:
    """An HTTP answer: status, envelope and its media type."""

    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class _Payload:
    operation: str
    records: Any
    reference: str | None


class _Fault(Exception):  # noqa: N818 - an internal signal carrying the fault to answer with
    def __init__(self, fault: SoapFault) -> None:
        self.fault = fault
        super().__init__(fault.reason)


def load_schema(path: Path) -> etree.XMLSchema:
    """Load an XSD (local includes only), raising ``ConfigError`` that says what is wrong."""
    try:
        document = etree.parse(str(path), safe_parser())
        return etree.XMLSchema(document)
    except OSError as exc:
        raise ConfigError(str(path), [("schema_path", f"cannot read the XSD: {exc}")]) from exc
    except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
        raise ConfigError(str(path), [("schema_path", f"not a valid XSD: {exc}")]) from exc


def schema_errors(schema: etree.XMLSchema, element: etree._Element) -> list[str]:
    """Every way ``element`` fails ``schema``, as ``line N: message`` naming the element."""
    # Validate a copy as a document of its own, so the envelope around it plays no part.
    if schema.validate(etree.ElementTree(copy.deepcopy(element))):
        return []
    log: Iterable[Any] = schema.error_log  # type: ignore[assignment]  # the stubs miss __iter__
    return [f"line {e.line}: {e.message}" for e in list(log)[:MAX_SCHEMA_ERRORS]]


class SoapInbound:
    """A SOAP endpoint: parse safely, validate, convert the payload to records, ingest."""

    def __init__(self, name: str, config: SoapInboundConfig) -> None:
        self.name = name
        self.config = config
        self._versions = frozenset(SoapVersion(v) for v in config.versions)
        self._ingest: Ingest | None = None
        self._schema: etree.XMLSchema | None = None

    @property
    def running(self) -> bool:
        """True between ``start`` and ``stop``."""
        return self._ingest is not None

    async def start(self, ingest: Ingest) -> None:
        """Load the XSD (``ConfigError`` if it is unusable) and begin answering requests."""
        if self.config.schema_path is not None:
            self._schema = await asyncio.to_thread(load_schema, self.config.schema_path)
        self._ingest = ingest

    async def stop(self) -> None:
        """Answer further requests with 503; requests in flight finish."""
        self._ingest = None

    async def handle(
        self, body: bytes, *, content_type: str | None, soap_action: str | None, request_id: str
    ) -> SoapReply:
        """Answer one request (the router calls this; tests may too)."""
        version = SoapVersion.from_content_type(content_type)
        refusal = self._refusal(version, content_type)
        if refusal is not None:
            return refusal
        assert version is not None
        ingest = self._ingest
        assert ingest is not None
        where = f"request {request_id}"
        try:
            if len(body) > self.config.parse_in_thread_over:
                payload = await asyncio.to_thread(self._payload, body, version, where)
            else:
                payload = self._payload(body, version, where)
            result = await ingest(self._raw(payload, version, soap_action, request_id))
        except _Fault as signal:
            return self._fault_reply(version, signal.fault)
        except InboundRefused as exc:
            return self._fault_reply(version, SoapFault(FaultCode.SENDER, str(exc)))
        except Exception:  # the sender must hear "retry", whatever went wrong inside the hub
            logger.exception("soap connector %s could not ingest %s", self.name, where)
            fault = SoapFault(FaultCode.RECEIVER, "the hub could not accept the message now; retry later")
            return self._fault_reply(version, fault)
        return self._answer(version, payload.operation, result)

    def _refusal(self, version: SoapVersion | None, content_type: str | None) -> SoapReply | None:
        if version is None:
            fault = SoapFault(FaultCode.SENDER, f"unsupported Content-Type {content_type!r}: send SOAP")
            return self._fault_reply(SoapVersion.V11, fault, status=415)
        if version not in self._versions:
            accepted = ", ".join(sorted(self._versions))
            fault = SoapFault(FaultCode.SENDER, f"SOAP {version} is not accepted here (only {accepted})")
            return self._fault_reply(version, fault)
        if self._ingest is None:
            fault = SoapFault(FaultCode.RECEIVER, f"connector {self.name!r} is not running; retry later")
            return self._fault_reply(version, fault, status=503)
        return None

    def _payload(self, body: bytes, version: SoapVersion, where: str) -> _Payload:
        message = read_envelope(parse_xml(body, where=where), where=where)
        if message.version is not version:
            raise _Fault(
                SoapFault(
                    FaultCode.SENDER,
                    f"VersionMismatch: the Content-Type says SOAP {version}, the envelope is "
                    f"SOAP {message.version}",
                )
            )
        if len(message.body) != 1:
            raise _Fault(
                SoapFault(
                    FaultCode.SENDER,
                    f"the SOAP Body must carry exactly one payload element, not {len(message.body)}",
                )
            )
        element = message.body[0]
        if self._schema is not None:
            errors = schema_errors(self._schema, element)
            if errors:
                schema_name = self.config.schema_path.name if self.config.schema_path else "the XSD"
                raise _Fault(
                    SoapFault(
                        FaultCode.SENDER,
                        f"payload {local_name(element)} does not satisfy {schema_name}: {errors[0]}",
                        details=tuple(errors),
                    )
                )
        reference = next((h.text for h in message.headers if h.tag == WSA_MESSAGE_ID and h.text), None)
        return _Payload(local_name(element), self._records(element), reference)

    def _records(self, element: etree._Element) -> Any:
        wanted = self.config.record_element
        if wanted is None:
            return element_to_record(element)
        records = [
            element_to_record(c) for c in element if isinstance(c.tag, str) and local_name(c) == wanted
        ]
        if not records:
            raise _Fault(
                SoapFault(FaultCode.SENDER, f"payload {local_name(element)} has no {wanted} records")
            )
        return records

    def _raw(
        self, payload: _Payload, version: SoapVersion, soap_action: str | None, request_id: str
    ) -> RawMessage:
        headers = {"soap-version": version.value, "soap-operation": payload.operation}
        if soap_action:
            headers["soap-action"] = soap_action
        return RawMessage(
            connector=self.name,
            body=json.dumps(payload.records, ensure_ascii=False).encode(),
            content_type="application/json",
            reference=payload.reference or request_id,
            headers=headers,
        )

    def _answer(self, version: SoapVersion, operation: str, result: IngestResult) -> SoapReply:
        if result.rejected:
            details = tuple(": ".join(p for p in (r.where, r.field, r.reason) if p) for r in result.rejected)
            fault = SoapFault(
                FaultCode.SENDER,
                f"{len(result.rejected)} record(s) rejected: {details[0]}",
                details=details,
                accepted=result.event_ids,
            )
            return self._fault_reply(version, fault)
        return SoapReply(200, accepted_envelope(version, operation, result.event_ids), version.content_type())

    def _fault_reply(self, version: SoapVersion, fault: SoapFault, *, status: int | None = None) -> SoapReply:
        if fault.code is FaultCode.SENDER:
            logger.info("soap connector %s refused a request: %s", self.name, fault.reason)
        return SoapReply(
            status or fault.code.http_status(version), fault_envelope(version, fault), version.content_type()
        )


async def _read_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _soap_action(request: Request) -> str | None:
    action = request.headers.get("soapaction")
    if action is None:
        for part in request.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "action":
                action = value
    return action.strip().strip('"') if action else None


def create_soap_router(
    endpoints: Mapping[str, SoapInbound], *, prefix: str = "/soap", dependencies: Sequence[Any] = ()
) -> APIRouter:
    """A router serving ``POST {prefix}/{connector}`` for each endpoint in ``endpoints``.

    ``endpoints`` is read on every request, so a hub may add and remove
    connectors (on a configuration reload) without rebuilding the router.
    ``dependencies`` (e.g. the hub's authentication) run before each request.
    """
    router = APIRouter(prefix=prefix, tags=["soap"], dependencies=[Depends(d) for d in dependencies])

    @router.post(
        "/{connector}",
        summary="Receive a SOAP 1.1 or 1.2 envelope",
        response_class=Response,
        responses={
            200: {"content": {"text/xml": {}, "application/soap+xml": {}}},
            400: {"description": "SOAP 1.2 sender fault"},
            404: {"description": "No SOAP connector of that name"},
            413: {"description": "Body too large"},
            500: {"description": "SOAP 1.1 fault, or a receiver fault"},
            503: {"description": "The connector is not running"},
        },
    )
    async def receive_soap(connector: str, request: Request) -> Response:
        content_type = request.headers.get("content-type")
        version = SoapVersion.from_content_type(content_type) or SoapVersion.V11
        endpoint = endpoints.get(connector)
        if endpoint is None:
            fault = SoapFault(FaultCode.SENDER, f"no SOAP connector named {connector!r}")
            return Response(fault_envelope(version, fault), 404, media_type=version.content_type())
        body = await _read_body(request, endpoint.config.max_body_bytes)
        if body is None:
            fault = SoapFault(
                FaultCode.SENDER, f"body larger than {endpoint.config.max_body_bytes} bytes is refused"
            )
            return Response(fault_envelope(version, fault), 413, media_type=version.content_type())
        request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        reply = await endpoint.handle(
            body, content_type=content_type, soap_action=_soap_action(request), request_id=request_id
        )
        return Response(reply.body, reply.status, media_type=reply.content_type)

    return router
