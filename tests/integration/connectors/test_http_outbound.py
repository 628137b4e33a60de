"""HTTP outbound against a real local REST server: receipts, auth, timeouts and retry signals."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from datetime import timedelta
from email.utils import format_datetime

import pytest
from _support import LocalServer, free_port
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from polestar.connectors.contract import OutboundMessage
from polestar.connectors.http import HttpOutbound, HttpOutboundConfig, parse_retry_after
from polestar.errors import ConfigError, DeliveryFailed, DeliveryRefused
from polestar.model.envelope import Envelope
from polestar.model.timeutil import utcnow


def crime_system() -> tuple[FastAPI, list[dict]]:
    """A stand-in crime recording system: records what it receives, answers as told by the path."""
    app = FastAPI()
    seen: list[dict] = []

    async def remember(request: Request) -> None:
        seen.append(
            {
                "path": request.url.path,
                "method": request.method,
                "headers": dict(request.headers),
                "body": await request.body(),
            }
        )

    @app.post("/reports")
    async def reports(request: Request) -> Response:
        await remember(request)
        return JSONResponse(
            {"id": f"CR-{len(seen):04d}"}, status_code=201, headers={"Location": f"/reports/{len(seen)}"}
        )

    @app.put("/incidents/{reference}")
    async def incident(reference: str, request: Request) -> Response:
        await remember(request)
        return Response(status_code=204)

    @app.post("/busy")
    async def busy() -> Response:
        return Response("down for maintenance", status_code=503, headers={"Retry-After": "7"})

    @app.post("/throttled")
    async def throttled() -> Response:
        later = format_datetime(utcnow() + timedelta(seconds=30), usegmt=True)
        return Response(status_code=429, headers={"Retry-After": later})

    @app.post("/invalid")
    async def invalid() -> Response:
        return JSONResponse(
            {"title": "Bad Request", "detail": "surname is required"},
            status_code=400,
            media_type="application/problem+json",
        )

    @app.post("/slow")
    async def slow() -> Response:
        await asyncio.sleep(2)
        return Response(status_code=201)

    return app, seen


def message(subject: str = "INC-20261124-0042") -> OutboundMessage:
    envelope = Envelope(source="/hub", type="crime.report.drafted", subject=subject)
    return OutboundMessage(envelope=envelope, body=b'{"offence": "theft"}', content_type="application/json")


@pytest.fixture
async def system():
    app, seen = crime_system()
    async with LocalServer(app) as server:
        yield server.url, seen


@contextlib.asynccontextmanager
async def connected(config: HttpOutboundConfig):
    outbound = HttpOutbound("crime-recording", config)
    await outbound.start()
    try:
        yield outbound
    finally:
        await outbound.stop()


async def test_delivery_returns_the_systems_reference_and_sends_the_idempotency_key(system, monkeypatch):
    url, seen = system
    monkeypatch.setenv("CRIME_TOKEN", "s3cret-token")
    async with connected(
        HttpOutboundConfig.model_validate(
            {"url": f"{url}/reports", "auth": {"kind": "bearer", "token": {"env": "CRIME_TOKEN"}}}
        )
    ) as out:
        sent = message()
        receipt = await out.deliver(sent)
    assert receipt.reference == "/reports/1"
    assert receipt.response == {"status": 201, "body": {"id": "CR-0001"}}
    [request] = seen
    assert request["headers"]["idempotency-key"] == sent.envelope.id
    assert request["headers"]["authorization"] == "Bearer s3cret-token"
    assert request["body"] == sent.body


async def test_basic_auth_from_a_file_and_a_url_template(system, tmp_path):
    url, seen = system
    (tmp_path / "password").write_text("pa55word\n")
    config = HttpOutboundConfig.model_validate(
        {
            "url": f"{url}/incidents/{{subject}}",
            "method": "PUT",
            "auth": {
                "kind": "basic",
                "username": "polestar",
                "password": {"file": str(tmp_path / "password")},
            },
        }
    )
    async with connected(config) as out:
        await out.deliver(message("INC 2026 1"))
    [request] = seen
    assert request["path"] == "/incidents/INC 2026 1"
    assert request["headers"]["authorization"] == "Basic " + base64.b64encode(b"polestar:pa55word").decode()


async def test_5xx_is_retried_after_the_systems_retry_after(system):
    url, _ = system
    async with connected(HttpOutboundConfig(url=f"{url}/busy")) as out:
        with pytest.raises(DeliveryFailed, match="503") as failed:
            await out.deliver(message())
    assert failed.value.retry_after == 7


async def test_429_with_an_http_date_is_retried_after_that_time(system):
    url, _ = system
    async with connected(HttpOutboundConfig(url=f"{url}/throttled")) as out:
        with pytest.raises(DeliveryFailed, match="429") as failed:
            await out.deliver(message())
    assert failed.value.retry_after is not None
    assert 25 <= failed.value.retry_after <= 30


async def test_a_4xx_is_refused_for_good_with_the_systems_reason(system):
    url, _ = system
    async with connected(HttpOutboundConfig(url=f"{url}/invalid")) as out:
        with pytest.raises(DeliveryRefused, match="surname is required"):
            await out.deliver(message())


async def test_a_timeout_and_a_refused_connection_are_retried(system):
    url, _ = system
    async with connected(HttpOutboundConfig(url=f"{url}/slow", timeout=0.3)) as slow:
        with pytest.raises(DeliveryFailed, match="timed out"):
            await slow.deliver(message())
    async with connected(
        HttpOutboundConfig(url=f"http://127.0.0.1:{free_port()}/reports", connect_timeout=1)
    ) as down:
        with pytest.raises(DeliveryFailed, match="ConnectError") as failed:
            await down.deliver(message())
    assert failed.value.retry_after is None


async def test_a_missing_secret_is_named_at_start_and_secrets_never_sit_in_headers(monkeypatch):
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    config = HttpOutboundConfig.model_validate(
        {
            "url": "https://crime.example/reports",
            "auth": {"kind": "bearer", "token": {"env": "NO_SUCH_TOKEN"}},
        }
    )
    HttpOutbound("crime-recording", config)  # constructing reads nothing
    with pytest.raises(ConfigError, match="NO_SUCH_TOKEN"):
        await HttpOutbound("crime-recording", config).start()
    with pytest.raises(ValueError, match="auth"):
        HttpOutboundConfig(url="https://x.example", headers={"Authorization": "Bearer oops"})


def test_retry_after_reads_seconds_and_http_dates():
    now = utcnow()
    assert parse_retry_after("120") == 120
    assert parse_retry_after(
        format_datetime(now + timedelta(seconds=60), usegmt=True), now=now
    ) == pytest.approx(60, abs=1)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=60), usegmt=True), now=now) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
