"""HTTP outbound: one REST call per event, with auth, timeouts, TLS and honest retry signals.

=====================================  ==========================================
the system answers                     ``deliver`` does
=====================================  ==========================================
2xx                                    returns a receipt (``Location`` or JSON id)
429, 408, 5xx                          raises ``DeliveryFailed(retry_after=…)``
timeout, connection refused or reset   raises ``DeliveryFailed``
any other 4xx                          raises ``DeliveryRefused`` with its reason
=====================================  ==========================================

``retry_after`` comes from the ``Retry-After`` header (seconds or an HTTP
date), capped at ``max_retry_after``; the route waits that long before the
bus redelivers. Every request carries ``Idempotency-Key: <event id>`` so the
system can drop a repeat after a retry whose first attempt did arrive.
"""

from __future__ import annotations

import json
import ssl
import string
from datetime import datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from polestar.connectors.contract import DeliveryReceipt, OutboundMessage
from polestar.connectors.http.config import BasicAuth, HttpOutboundConfig
from polestar.errors import DeliveryFailed, DeliveryRefused
from polestar.model.timeutil import utcnow

_TEMPLATE_FIELDS = frozenset({"id", "type", "subject", "partitionkey", "target"})
_RETRY_STATUSES = frozenset({HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS})


class HttpOutbound:
    """The ``OutboundConnector`` calling a REST API. Constructing it reads no secrets, opens nothing."""

    def __init__(
        self, name: str, config: HttpOutboundConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.name = name
        self.config = config
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        fields = {name for _, name, _, _ in string.Formatter().parse(config.url) if name}
        unknown = fields - _TEMPLATE_FIELDS
        if unknown:
            raise ValueError(
                f"url template uses unknown field(s) {sorted(unknown)}; use {sorted(_TEMPLATE_FIELDS)}"
            )

    async def start(self) -> None:
        """Read the credentials and open the connection pool."""
        config = self.config
        auth: httpx.Auth | None = None
        headers = {"User-Agent": "polestar-hub", **config.headers}
        if isinstance(config.auth, BasicAuth):
            auth = httpx.BasicAuth(config.auth.username, config.auth.password.read())
        elif config.auth is not None:
            headers["Authorization"] = f"Bearer {config.auth.token.read()}"
        self._client = httpx.AsyncClient(
            auth=auth,
            headers=headers,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            verify=self._tls(),
            transport=self._transport,
            follow_redirects=False,
        )

    def _tls(self) -> ssl.SSLContext | bool:
        config = self.config
        if config.verify is False:
            if config.client_cert is None:
                return False
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        else:
            cafile = None if config.verify is True else str(config.verify)
            context = ssl.create_default_context(cafile=cafile)
        if config.client_cert is not None:
            key = None if config.client_key is None else str(config.client_key)
            context.load_cert_chain(str(config.client_cert), key)
        return context

    async def stop(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def url_for(self, message: OutboundMessage) -> str:
        """The request URL for ``message``; ``DeliveryRefused`` when the template needs a value it lacks."""
        envelope = message.envelope
        values = {
            "id": envelope.id,
            "type": envelope.type,
            "subject": envelope.subject,
            "partitionkey": envelope.partitionkey,
            "target": message.target,
        }
        try:
            return self.config.url.format_map(
                {key: quote(str(value), safe="") for key, value in values.items() if value is not None}
            )
        except KeyError as exc:
            raise DeliveryRefused(
                f"the URL template needs {exc.args[0]!r}, which event {envelope.id} lacks"
            ) from None

    async def deliver(self, message: OutboundMessage) -> DeliveryReceipt:
        """Send ``message``; see the module docstring for what each answer becomes."""
        if self._client is None:
            raise DeliveryFailed(f"http connector {self.name!r} is not started")
        headers = {
            **message.headers,
            "Content-Type": message.content_type,
            "Idempotency-Key": message.idempotency_key,
        }
        url = self.url_for(message)
        try:
            response = await self._client.request(
                self.config.method, url, content=message.body, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"{self.config.method} {url} timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise DeliveryFailed(f"{self.config.method} {url} failed: {type(exc).__name__}: {exc}") from None
        return self._receipt(response)

    def _receipt(self, response: httpx.Response) -> DeliveryReceipt:
        status = response.status_code
        if 200 <= status < 300:
            body = _json_or_none(response)
            reference = response.headers.get("location")
            if reference is None and isinstance(body, dict):
                found = body.get("id") or body.get("reference")
                reference = str(found) if found is not None else None
            return DeliveryReceipt(
                reference=reference,
                response={"status": status, **({"body": body} if body is not None else {})},
            )
        reason = f"{response.request.method} {response.request.url} answered {status} {_reason(response)}"
        if status >= 500 or status in _RETRY_STATUSES:
            raise DeliveryFailed(reason, retry_after=self._retry_after(response))
        raise DeliveryRefused(reason)

    def _retry_after(self, response: httpx.Response) -> float | None:
        delay = parse_retry_after(response.headers.get("retry-after"))
        return None if delay is None else min(delay, self.config.max_retry_after)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date); None if absent or bad."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or utcnow())).total_seconds())


def _json_or_none(response: httpx.Response) -> Any:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _reason(response: httpx.Response) -> str:
    body = _json_or_none(response)
    if isinstance(body, dict):
        for key in ("detail", "title", "message", "error"):
            if isinstance(body.get(key), str):
                return f"{response.reason_phrase}: {body[key]}"
    text = response.text.strip()[:300]
    return f"{response.reason_phrase}: {text}" if text else response.reason_phrase
