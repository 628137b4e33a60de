"""The SOAP client: one envelope per message, the reply parsed safely (request/reply, the PNC shape).

How the outcome is told to the route:

==========================================  ===========================================
reply                                       outcome
==========================================  ===========================================
2xx envelope                                ``DeliveryReceipt(response={Element: record})``
Sender/Client fault                         ``DeliveryRefused`` (dead-letter)
Receiver/Server fault, 5xx, 429, 408        ``DeliveryFailed`` (retry, after Retry-After)
timeout, connection refused or reset        ``DeliveryFailed``
other 4xx, or a reply that is not safe SOAP ``DeliveryRefused``
==========================================  ===========================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from lxml import etree

from polestar.connectors.codecs import element_to_record
from polestar.connectors.contract import DeliveryReceipt, OutboundMessage
from polestar.connectors.soap.codec import (
    FaultCode,
    SoapMessage,
    SoapVersion,
    build_envelope,
    local_name,
    parse_xml,
    read_envelope,
    record_to_element,
)
from polestar.connectors.soap.config import SoapOutboundConfig
from polestar.errors import DeliveryFailed, DeliveryRefused, InboundRefused
from polestar.model.timeutil import utcnow

_RETRYABLE_4XX = frozenset({408, 425, 429})


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - utcnow()).total_seconds())


def _lookup(record: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(record, Mapping) or part not in record:
            return None
        record = record[part]
    return record


class SoapOutbound:
    """Sends each message as a SOAP request and returns the reply body as a record."""

    def __init__(self, name: str, config: SoapOutboundConfig) -> None:
        self.name = name
        self.config = config
        self.version = SoapVersion(config.version)
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Create the HTTP client (connections open on first use)."""
        if self._client is None:
            timeout = httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)
            self._client = httpx.AsyncClient(timeout=timeout, headers=self.config.headers)

    async def stop(self) -> None:
        """Close the HTTP client; calling it twice is harmless."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Send ``message`` and return the reply, or raise ``DeliveryFailed`` / ``DeliveryRefused``."""
        if self._client is None:
            raise DeliveryFailed(f"soap connector {self.name!r} is not started")
        action = message.target or self.config.action
        envelope = self._envelope(message)
        headers = {"Content-Type": self.version.content_type(action)}
        if self.version is SoapVersion.V11:
            headers["SOAPAction"] = f'"{action or ""}"'
        headers["X-Request-Id"] = message.idempotency_key
        try:
            response = await self._client.post(str(self.config.url), content=envelope, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"{self._where()}: no reply within the timeout ({exc!r})") from exc
        except httpx.TransportError as exc:
            raise DeliveryFailed(f"{self._where()}: cannot reach the service ({exc!r})") from exc
        return self._outcome(response)

    def _where(self) -> str:
        return f"soap connector {self.name!r} at {self.config.url}"

    def _envelope(self, message: OutboundMessage) -> bytes:
        media = message.content_type.split(";", 1)[0].strip().lower()
        if media.endswith("json"):
            if not self.config.payload_element:
                raise DeliveryRefused(
                    f"{self._where()}: a JSON body needs payload_element to name its XML element"
                )
            try:
                record = json.loads(message.body)
            except ValueError as exc:
                raise DeliveryRefused(f"{self._where()}: body is not valid JSON: {exc}") from exc
            payload = record_to_element(
                self.config.payload_element, record, namespace=self.config.payload_namespace
            )
            return build_envelope(self.version, [payload])
        try:
            element = parse_xml(message.body, where=f"event {message.idempotency_key}")
        except InboundRefused as exc:
            raise DeliveryRefused(f"{self._where()}: body is not safe XML: {exc}") from exc
        if local_name(element) == "Envelope" and SoapVersion.from_namespace(etree.QName(element).namespace):
            return message.body
        return build_envelope(self.version, [element])

    def _outcome(self, response: httpx.Response) -> DeliveryReceipt:
        status = response.status_code
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        reply = self._parse_reply(response)
        if reply is not None and reply.fault is not None:
            fault = reply.fault
            detail = f"{self._where()}: SOAP fault {fault.code.value}: {fault.reason}"
            if fault.details:
                detail += f" ({'; '.join(fault.details)})"
            if fault.code is FaultCode.SENDER and status not in _RETRYABLE_4XX:
                raise DeliveryRefused(detail)
            raise DeliveryFailed(detail, retry_after=retry_after)
        if status >= 500 or status in _RETRYABLE_4XX:
            raise DeliveryFailed(f"{self._where()}: HTTP {status}", retry_after=retry_after)
        if status >= 400:
            raise DeliveryRefused(f"{self._where()}: HTTP {status}: {response.text[:200]}")
        if reply is None:
            raise DeliveryRefused(f"{self._where()}: HTTP {status} reply is not a SOAP envelope")
        record = {local_name(e): element_to_record(e) for e in reply.body}
        reference = _lookup(record, self.config.reference_field) if self.config.reference_field else None
        return DeliveryReceipt(reference=None if reference is None else str(reference), response=record)

    def _parse_reply(self, response: httpx.Response) -> SoapMessage | None:
        if len(response.content) > self.config.max_reply_bytes:
            raise DeliveryRefused(f"{self._where()}: reply over {self.config.max_reply_bytes} bytes")
        if not response.content.strip():
            return None
        try:
            return read_envelope(parse_xml(response.content, where="reply"), where="reply")
        except InboundRefused as exc:
            if response.status_code >= 500 or response.status_code in _RETRYABLE_4XX:
                return None  # a proxy's error page; the status decides
            if response.is_success:
                raise DeliveryRefused(f"{self._where()}: reply refused: {exc}") from exc
            return None
