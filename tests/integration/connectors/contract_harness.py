"""What every connector kind must do, and each kind's harness: its real counterpart on this machine.

The contract suite (``test_contract_*.py``) runs the same checks against every
kind; a harness supplies, for its kind:

* the real counterpart, started for one test with names of its own: a local
  uvicorn server (http, soap), RabbitMQ, Mosquitto, NATS JetStream, a temp
  folder (file), an aiosmtpd server (email);
* connectors wired to it (``outbound()``, ``inbound()``) and to a counterpart
  that is down (``unavailable_outbound()``);
* a way for "the system" to send (``send``) and to show what it received
  (``received``), as records, so every kind is compared the same way;
* where a refused inbound message ends up (``refusal``): the broker kinds put
  it in the hub's quarantine, the file kind in ``errors/`` with a reason file,
  http and soap tell the sender, who still has it.

The hub side is ``RecordingIngest``: a small ``Ingest`` double that decodes
JSON with the shared codec, accepts records carrying ``ref`` and rejects the
others. Nothing on the system side is a double.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import importlib
import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from _support import LocalServer, free_port
from fastapi import FastAPI, Request, Response
from lxml import etree

from polestar.connectors.codecs import RecordFormat, decode, element_to_record
from polestar.connectors.contract import (
    InboundConnector,
    IngestResult,
    OutboundConnector,
    OutboundMessage,
    RawMessage,
    Rejection,
)
from polestar.connectors.ingest import stable_event_id
from polestar.connectors.soap import (
    SoapInbound,
    SoapInboundConfig,
    SoapOutbound,
    SoapOutboundConfig,
    create_soap_router,
)
from polestar.errors import BusUnavailable
from polestar.model.envelope import Envelope

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"

SERVICE_URLS = {  # the same variables and defaults as tests/conftest.py
    "nats": os.environ.get("POLESTAR_TEST_NATS_URL", "nats://127.0.0.1:4222"),
    "rabbitmq": os.environ.get("POLESTAR_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    "mqtt": os.environ.get("POLESTAR_TEST_MQTT_URL", "mqtt://127.0.0.1:1883"),
}

# -- the hub side -------------------------------------------------------------------------------


@dataclass
class RecordingIngest:
    """The hub as a connector sees it: records what it was given, accepts records with a ``ref``."""

    calls: list[RawMessage] = field(default_factory=list)
    accepted: list[tuple[RawMessage, dict[str, Any]]] = field(default_factory=list)
    quarantined: list[tuple[RawMessage, str]] = field(default_factory=list)
    fail_next: int = 0
    """Raise ``BusUnavailable`` for this many calls: the hub's bus is down."""
    hold: asyncio.Event | None = None
    """When set, each call waits for it: a hub that will crash before answering."""
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, raw: RawMessage) -> IngestResult:
        self.calls.append(raw)
        self.changed.set()
        if self.fail_next > 0:
            self.fail_next -= 1
            raise BusUnavailable("the bus is down (test)")
        if self.hold is not None:
            await self.hold.wait()
        decoded = decode(raw.body, RecordFormat.JSON, where=raw.reference)
        ids: list[str] = []
        rejected = list(decoded.rejected)
        for item in decoded.records:
            record = item.record
            if isinstance(record, dict) and record.get("ref"):
                self.accepted.append((raw, record))
                ids.append(stable_event_id(raw.connector, str(record["ref"])))
            else:
                rejected.append(
                    Rejection(where=item.where, reason="ref is required", field="ref", record=item.text)
                )
        self.changed.set()
        return IngestResult(event_ids=tuple(ids), rejected=tuple(rejected))

    async def quarantine(self, raw: RawMessage, reason: str) -> None:
        self.quarantined.append((raw, reason))
        self.changed.set()

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 15.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 0.2)

    def records(self) -> list[dict[str, Any]]:
        return [record for _, record in self.accepted]


def outbound_message(record: dict[str, Any], *, target: str | None = None) -> OutboundMessage:
    envelope = Envelope(source="/tests/contract", type="contract.record.sent", subject=str(record.get("ref")))
    return OutboundMessage(
        envelope=envelope, body=json.dumps(record).encode(), content_type="application/json", target=target
    )


def a_record(unique: str) -> dict[str, Any]:
    return {"ref": f"REF-{unique}", "name": "O'Brien, Siobhán", "count": "3"}


async def eventually(probe: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll ``probe`` (sync or async) until it returns something truthy."""
    async with asyncio.timeout(timeout):
        while True:
            value = probe()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.05)


def module(name: str) -> Any:
    """A connector module, or skip: its engineer may still be writing it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.skip(f"{name} is not available yet ({exc})")


# -- the harness contract ------------------------------------------------------------------------


@dataclass
class Answer:
    """What the system was told when it sent something (HTTP-like kinds only)."""

    status: int
    text: str


class Harness:
    """One kind's counterpart and connectors; subclasses fill in the kind's ways."""

    kind: ClassVar[str]
    has_inbound: ClassVar[bool] = True

    def __init__(self, unique: str, tmp_path: Path) -> None:
        self.unique = unique
        self.tmp_path = tmp_path
        self.name = f"c-{unique}"

    async def __aenter__(self) -> Harness:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def outbound(self) -> OutboundConnector:
        raise NotImplementedError

    async def unavailable_outbound(self) -> OutboundConnector:
        """A started connector whose counterpart is not there."""
        raise NotImplementedError

    async def received(self, count: int, timeout: float = 15.0) -> list[Any]:
        """The records the counterpart has received, once there are ``count``."""
        raise NotImplementedError

    def inbound(self) -> InboundConnector:
        raise NotImplementedError

    def message(self, record: Any) -> bytes:
        """``record`` in the system's own format, as it would send it."""
        return json.dumps(record).encode()

    def bad_message(self) -> bytes:
        return b"{this is not JSON"

    async def send(self, body: bytes) -> Answer | None:
        raise NotImplementedError

    async def refusal(self, ingest: RecordingIngest, answer: Answer | None, body: bytes) -> str:
        """Where a refused message went, asserting it is not lost; returns the reason given."""
        await ingest.wait_until(lambda: bool(ingest.quarantined))
        raw, reason = ingest.quarantined[0]
        assert raw.body == body
        return reason

    def idle_connectors(self, port: int, folder: Path) -> list[object]:
        """Connectors constructed against ``port`` / ``folder``: construction must touch neither."""
        raise NotImplementedError


# -- http (the colleague's kind) and soap: a local uvicorn server --------------------------------


class _RecordingService:
    """A system's web service on a real uvicorn server: records what it is sent."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.bodies: list[tuple[dict[str, str], bytes]] = []


class HttpHarness(Harness):
    kind = "http"

    def __init__(self, unique: str, tmp_path: Path) -> None:
        super().__init__(unique, tmp_path)
        self.http = module("polestar.connectors.http")

    async def __aenter__(self) -> HttpHarness:
        self.endpoints: dict[str, Any] = {}
        self.service = _RecordingService()

        @self.service.app.post("/records")
        async def store(request: Request) -> Response:
            self.service.bodies.append((dict(request.headers), await request.body()))
            return Response(json.dumps({"id": str(uuid.uuid4())}), 201, media_type="application/json")

        self.service.app.include_router(self.http.create_ingest_router(self.endpoints))
        self.server = LocalServer(self.service.app)
        await self.server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.__aexit__(*exc)

    def outbound(self) -> OutboundConnector:
        return self.http.HttpOutbound(
            self.name, self.http.HttpOutboundConfig(url=f"{self.server.url}/records")
        )

    async def unavailable_outbound(self) -> OutboundConnector:
        config = self.http.HttpOutboundConfig(url=f"http://127.0.0.1:{free_port()}/records", timeout=3)
        connector = self.http.HttpOutbound(self.name, config)
        await connector.start()
        return connector

    async def received(self, count: int, timeout: float = 15.0) -> list[Any]:
        await eventually(lambda: len(self.service.bodies) >= count, timeout)
        return [json.loads(body) for _, body in self.service.bodies]

    def inbound(self) -> InboundConnector:
        connector = self.http.HttpInbound(self.name, self.http.HttpInboundConfig())
        self.endpoints[self.name] = connector
        return connector

    async def send(self, body: bytes) -> Answer:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{self.server.url}/ingest/{self.name}",
                content=body,
                headers={"content-type": "application/json"},
            )
        return Answer(response.status_code, response.text)

    async def refusal(self, ingest: RecordingIngest, answer: Answer | None, body: bytes) -> str:
        assert answer is not None
        assert 400 <= answer.status < 500, answer
        return answer.text

    def idle_connectors(self, port: int, folder: Path) -> list[object]:
        return [
            self.http.HttpInbound(self.name, self.http.HttpInboundConfig()),
            self.http.HttpOutbound(self.name, self.http.HttpOutboundConfig(url=f"http://127.0.0.1:{port}/x")),
        ]


def soap_request(payload: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP11}}}Envelope", nsmap={"soap": SOAP11})
    etree.SubElement(envelope, f"{{{SOAP11}}}Body").append(payload)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))


def record_element(record: dict[str, Any], name: str = "Record") -> etree._Element:
    element = etree.Element(name)
    for key, value in record.items():
        etree.SubElement(element, key).text = str(value)
    return element


class SoapService(_RecordingService):
    """A legacy national system's SOAP service: parses each request, answers or faults as told."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[Any] = []
        self.reply: Callable[[etree._Element], Any] = self.stored
        """Answers a payload with (status, body, headers), or a coroutine giving them."""

        @self.app.post("/service")
        async def service(request: Request) -> Response:
            body = await request.body()
            self.bodies.append((dict(request.headers), body))
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            payload = etree.fromstring(body, parser).find(f"{{{SOAP11}}}Body")[0]  # type: ignore[index]
            self.records.append(element_to_record(payload))
            outcome = self.reply(payload)
            if asyncio.iscoroutine(outcome):
                outcome = await outcome
            status, reply, headers = outcome
            return Response(reply, status, media_type="text/xml; charset=utf-8", headers=headers)

    @staticmethod
    def stored(payload: etree._Element) -> tuple[int, bytes, dict[str, str]]:
        answer = etree.Element("{urn:test:pnc}RecordStored", nsmap={"p": "urn:test:pnc"})
        etree.SubElement(answer, "{urn:test:pnc}Reference").text = payload.findtext("ref")
        etree.SubElement(answer, "{urn:test:pnc}Status").text = "STORED"
        return 200, soap_request(answer), {}


class SoapHarness(Harness):
    kind = "soap"

    def __init__(self, unique: str, tmp_path: Path) -> None:
        super().__init__(unique, tmp_path)
        self.inbound_class, self.outbound_class = SoapInbound, SoapOutbound

    async def __aenter__(self) -> SoapHarness:
        self.endpoints: dict[str, SoapInbound] = {}
        self.service = SoapService()
        self.service.app.include_router(create_soap_router(self.endpoints))
        self.server = LocalServer(self.service.app)
        await self.server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.__aexit__(*exc)

    def outbound_config(self, **changes: Any) -> Any:
        settings = {
            "url": f"{self.server.url}/service",
            "payload_element": "Record",
            "action": "urn:test:Store",
        }
        return SoapOutboundConfig(**{**settings, **changes})

    def outbound(self) -> OutboundConnector:
        return self.outbound_class(self.name, self.outbound_config())

    async def unavailable_outbound(self) -> OutboundConnector:
        connector = self.outbound_class(
            self.name, self.outbound_config(url=f"http://127.0.0.1:{free_port()}/service", timeout=3)
        )
        await connector.start()
        return connector

    async def received(self, count: int, timeout: float = 15.0) -> list[Any]:
        await eventually(lambda: len(self.service.records) >= count, timeout)
        return list(self.service.records)

    def inbound(self, **changes: Any) -> InboundConnector:
        connector = self.inbound_class(self.name, SoapInboundConfig(**changes))
        self.endpoints[self.name] = connector
        return connector

    def message(self, record: Any) -> bytes:
        return soap_request(record_element(record))

    def bad_message(self) -> bytes:
        return soap_request(record_element({"name": "no reference"}))

    async def send(self, body: bytes, *, content_type: str = "text/xml; charset=utf-8") -> Answer:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                f"{self.server.url}/soap/{self.name}",
                content=body,
                headers={"content-type": content_type, "SOAPAction": '"urn:test:Submit"'},
            )
        return Answer(response.status_code, response.text)

    async def refusal(self, ingest: RecordingIngest, answer: Answer | None, body: bytes) -> str:
        assert answer is not None
        assert answer.status == 500, answer  # SOAP 1.1: every fault is a 500
        fault = etree.fromstring(answer.text.encode()).find(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault")
        assert fault is not None
        assert fault.findtext("faultcode") == "soap:Client"
        return str(fault.findtext("faultstring"))

    def idle_connectors(self, port: int, folder: Path) -> list[object]:
        return [
            self.inbound_class(self.name, SoapInboundConfig(schema_path=folder / "missing.xsd")),
            self.outbound_class(self.name, SoapOutboundConfig(url=f"http://127.0.0.1:{port}/x")),
        ]


# -- file (the colleague's kind): a temp folder ---------------------------------------------------


class FileHarness(Harness):
    kind = "file"

    def __init__(self, unique: str, tmp_path: Path) -> None:
        super().__init__(unique, tmp_path)
        self.file = module("polestar.connectors.file")

    async def __aenter__(self) -> FileHarness:
        self.drop = self.tmp_path / "drop"
        self.out = self.tmp_path / "out"
        return self

    def outbound(self) -> OutboundConnector:
        config = self.file.FileOutboundConfig(folder=self.out, format="jsonl", batch_max_seconds=0.05)
        return self.file.FileOutbound(self.name, config)

    async def unavailable_outbound(self) -> OutboundConnector:
        gone = self.tmp_path / "share"
        connector = self.file.FileOutbound(
            self.name, self.file.FileOutboundConfig(folder=gone, batch_max_seconds=0.05)
        )
        await connector.start()
        gone.rmdir()
        gone.write_text("the share was unmounted and a file left in its place")
        return connector

    async def received(self, count: int, timeout: float = 15.0) -> list[Any]:
        def lines() -> list[Any]:
            found = [
                json.loads(line)
                for p in sorted(self.out.glob("*.jsonl"))
                for line in p.read_text().splitlines()
            ]
            return found if len(found) >= count else []

        return list(await eventually(lines, timeout))

    def inbound(self) -> InboundConnector:
        config = self.file.FileInboundConfig(
            folder=self.drop, instance="hub-a", watch=False, poll_interval=0.05
        )
        return self.file.FileInbound(self.name, config)

    async def send(self, body: bytes) -> None:
        self.drop.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.json"
        (self.drop / f"{name}.part").write_bytes(body)
        (self.drop / f"{name}.part").rename(self.drop / name)

    async def refusal(self, ingest: RecordingIngest, answer: Answer | None, body: bytes) -> str:
        errors = self.drop / "errors"
        reasons = await eventually(lambda: sorted(errors.glob("*.reason.txt")) if errors.exists() else [])
        kept = [p for p in errors.iterdir() if p.suffix == ".json"]
        assert [p.read_bytes() for p in kept] == [body]
        return str(reasons[0].read_text())

    def idle_connectors(self, port: int, folder: Path) -> list[object]:
        return [
            self.file.FileInbound(self.name, self.file.FileInboundConfig(folder=folder / "in")),
            self.file.FileOutbound(self.name, self.file.FileOutboundConfig(folder=folder / "out")),
        ]


# -- nats: the real NATS JetStream server ---------------------------------------------------------


class NatsHarness(Harness):
    kind = "nats"

    def __init__(self, unique: str, tmp_path: Path) -> None:
        super().__init__(unique, tmp_path)
        from polestar.connectors.nats import JetStreamPull, NatsInboundConfig, NatsOutboundConfig  # noqa: PLC0415
        from polestar.connectors.nats.inbound import NatsInbound  # noqa: PLC0415
        from polestar.connectors.nats.outbound import NatsOutbound  # noqa: PLC0415

        self.pull, self.in_config, self.out_config = JetStreamPull, NatsInboundConfig, NatsOutboundConfig
        self.inbound_class, self.outbound_class = NatsInbound, NatsOutbound

    async def __aenter__(self) -> NatsHarness:
        import nats  # noqa: PLC0415

        self.url = SERVICE_URLS["nats"]
        self.nc = await nats.connect(self.url)
        self.js = self.nc.jetstream()
        self.stream = self.unique.upper()
        await self.js.add_stream(name=self.stream, subjects=[f"{self.unique}.>"])
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            await self.js.delete_stream(self.stream)
        await self.nc.close()

    def outbound(self) -> OutboundConnector:
        config = self.out_config(servers=(self.url,), subject=f"{self.unique}.out", stream=self.stream)
        return self.outbound_class(self.name, config)

    async def unavailable_outbound(self) -> OutboundConnector:
        config = self.out_config(
            servers=(f"nats://127.0.0.1:{free_port()}",),
            subject=f"{self.unique}.out",
            connect_timeout=2,
            timeout=2,
        )
        connector = self.outbound_class(self.name, config)
        await connector.start()
        return connector

    async def received(self, count: int, timeout: float = 15.0) -> list[Any]:
        subscription = await self.js.subscribe(f"{self.unique}.out", ordered_consumer=True)
        found: list[Any] = []
        try:
            async with asyncio.timeout(timeout):
                while len(found) < count:
                    message = await subscription.next_msg(timeout=timeout)
                    found.append(json.loads(message.data))
        finally:
            await subscription.unsubscribe()
        return found

    def inbound(self) -> InboundConnector:
        pull = self.pull(stream=self.stream, durable="polestar", fetch_timeout=0.5, retry_delay=0.2)
        config = self.in_config(servers=(self.url,), subject=f"{self.unique}.in.>", jetstream=pull)
        return self.inbound_class(self.name, config)

    async def send(self, body: bytes) -> None:
        await self.js.publish(f"{self.unique}.in.records", body, headers={"Nats-Msg-Id": uuid.uuid4().hex})

    def idle_connectors(self, port: int, folder: Path) -> list[object]:
        servers = (f"nats://127.0.0.1:{port}",)
        return [
            self.inbound_class(self.name, self.in_config(servers=servers, subject="x.>")),
            self.outbound_class(self.name, self.out_config(servers=servers, subject="x.y")),
        ]


# -- amqp: the real RabbitMQ ----------------------------------------------------------------------

AMQP_PASSWORD_ENV = "POLESTAR_TEST_AMQP_PASSWORD"


class AmqpHarness(Harness):
    kind = "amqp"

    def __init__(self, unique: str, tmp_path: Path) -> None:
        super().__init__(unique, tmp_path)
        from polestar.connectors.amqp import AmqpInboundConfig, AmqpOutboundConfig  # noqa: PLC0415
        from polestar.connectors.amqp.inbound import AmqpInbound  # noqa: PLC0415
        from polestar.connectors.amqp.outbound import AmqpOutbound  # noqa: PLC0415

        self.in_config, self.out_config = AmqpInboundConfig, AmqpOutboundConfig
        self.inbound_class, self.outbound_class = AmqpInbound, AmqpOutbound

    async def __aenter__(self) -> AmqpHarness:
        import aio_pika  # noqa: PLC0415
        from yarl import URL  # noqa: PLC0415

        self.aio_pika = aio_pika
        self.url = SERVICE_URLS["rabbitmq"]
        # The hub's connectors read the password from the environment, as in production.
        os.environ.setdefault(AMQP_PASSWORD_ENV, URL(self.url).password or "")
        self.hub_url = str(URL(self.url).with_password(None))
        self.connection = await aio_pika.connect(self.url)
        self.channel = await self.connection.channel()
        self.out_queue = await self.channel.declare_queue(f"{self.unique}.out", durable=True)
        self.exchange = f"{self.unique}.ex"
        return self

    async def __aexit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            channel = await self.connection.channel()
            await channel.queue_delete(f"{self.unique}.out")
            await channel.queue_delete(f"{self.unique}.in")
            await channel.exchange_delete(self.exchange)
        await self.connection.close()

    def connection_settings(self) -> dict[str, Any]:
        return {"url": self.hub_url, "password_env": AMQP_PASSWORD_ENV}

    def outbound(self, **changes: Any) -> OutboundConnector:
        settings = {**self.connection_settings(), "routing_key": f"{self.unique}.out", **changes}
        return self.outbound_class(self.name, self.out_config(**settings))

    async def unavailable_outbound(self) -> OutboundConnector:
        config = self.out_config(
            url=f"amqp://guest@127.0.0.1:{free_port()}/", routing_key="x", connect_timeout=2
        )
        connector = self.outbound_class(self.name, config)
        await connector.start()
        return connector

    async def received(self, count: int, timeout: float = 15.0) -> list[Any]:
        found: list[Any] = []

        async def more() -> bool:
            message = await self.out_queue.get(fail=False)
            if message is not None:
                await message.ack()
                found.append(json.loads(message.body))
            return len(found) >= count

        await eventually(more, timeout)
        return found

    def inbound(self, **changes: Any) -> InboundConnector:
        settings = {
            **self.connection_settings(),
            "queue": f"{self.unique}.in",
            "exchange": self.exchange,
            "routing_keys": ("records.#",),
            "retry_delay": 0.2,
            **changes,
        }
        return self.inbound_class(self.name, self.in_config(**settings))

    async def send(self, body: bytes, *, message_id: str | None = None) -> None:
        exchange = await self.channel.get_exchange(self.exchange)
        message = self.aio_pika.Message(
            body, content_type="application/json", message_id=message_id or uuid.uuid4().hex
        )
        await exchange.publish(message, routing_key="records.custody")

    def idle_connectors(self, port: int, folder: Path) -> list[object]:
        url = f"amqp://guest@127.0.0.1:{port}/"
        return [
            self.inbound_class(self.name, self.in_config(url=url, queue="q")),
            self.outbound_class(self.name, self.out_config(url=url, routing_key="q")),
        ]


# -- mqtt: the real Mosquitto ---------------------------------------------------------------------


class MqttHarness(Harness):
    kind = "mqtt"

    def __init__(self, unique: str, tmp_path: Path) -> None:
        super().__init__(unique, tmp_path)
        from polestar.connectors.mqtt import MqttInboundConfig, MqttOutboundConfig  # noqa: PLC0415
        from polestar.connectors.mqtt.inbound import MqttInbound  # noqa: PLC0415
        from polestar.connectors.mqtt.outbound import MqttOutbound  # noqa: PLC0415

        self.in_config, self.out_config = MqttInboundConfig, MqttOutboundConfig
        self.inbound_class, self.outbound_class = MqttInbound, MqttOutbound

    async def __aenter__(self) -> MqttHarness:
        import aiomqtt  # noqa: PLC0415

        self.aiomqtt = aiomqtt
        self.url = SERVICE_URLS["mqtt"]
        self.host, self.port = self.url.rsplit("//", 1)[1].rsplit(":", 1)
        self.system = aiomqtt.Client(self.host, int(self.port), identifier=f"system-{self.unique}")
        await self.system.__aenter__()
        await self.system.subscribe(f"{self.unique}/out/#", qos=1)
        self.heard: list[Any] = []
        self.listener = asyncio.create_task(self._listen())
        return self

    async def _listen(self) -> None:
        async for message in self.system.messages:
            self.heard.append(json.loads(bytes(message.payload)))  # type: ignore[arg-type]

    async def __aexit__(self, *exc: object) -> None:
        self.listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.listener
        await self.system.__aexit__(None, None, None)
        # End the hub's persistent session so the broker does not keep it.
        with contextlib.suppress(Exception):
            async with self.aiomqtt.Client(
                self.host, int(self.port), identifier=f"polestar-{self.name}", clean_session=True
            ):
                pass

    def outbound(self) -> OutboundConnector:
        return self.outbound_class(
            self.name, self.out_config(url=self.url, topic=f"{self.unique}/out/records")
        )

    async def unavailable_outbound(self) -> OutboundConnector:
        config = self.out_config(url=f"mqtt://127.0.0.1:{free_port()}", topic="x/y", timeout=3)
        connector = self.outbound_class(self.name, config)
        await connector.start()
        return connector

    async def received(self, count: int, timeout: float = 15.0) -> list[Any]:
        await eventually(lambda: len(self.heard) >= count, timeout)
        return list(self.heard)

    def inbound(self, **changes: Any) -> InboundConnector:
        settings = {"url": self.url, "topics": (f"{self.unique}/in/#",), "retry_delay": 0.2, **changes}
        return self.inbound_class(self.name, self.in_config(**settings))

    async def send(self, body: bytes) -> None:
        await self.system.publish(f"{self.unique}/in/records", body, qos=1)

    def idle_connectors(self, port: int, folder: Path) -> list[object]:
        url = f"mqtt://127.0.0.1:{port}"
        return [
            self.inbound_class(self.name, self.in_config(url=url, topics=("x/#",))),
            self.outbound_class(self.name, self.out_config(url=url, topic="x/y")),
        ]


# -- email: an aiosmtpd server started by the test ------------------------------------------------


class SmtpRecorder:
    """An aiosmtpd handler that keeps each message, or answers RCPT/DATA with a chosen code."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.data_reply:
            return self.data_reply
        self.messages.append(bytes(envelope.content))
        return "250 Message accepted for delivery"


class EmailHarness(Harness):
    kind = "email"
    has_inbound = False

    def __init__(self, unique: str, tmp_path: Path) -> None:
        super().__init__(unique, tmp_path)
        from polestar.connectors.email import EmailOutboundConfig  # noqa: PLC0415
        from polestar.connectors.email.outbound import EmailOutbound  # noqa: PLC0415

        self.config_class, self.outbound_class = EmailOutboundConfig, EmailOutbound
        self.smtp_port = 0

    async def __aenter__(self) -> EmailHarness:
        from aiosmtpd.controller import Controller  # noqa: PLC0415

        self.recorder = SmtpRecorder()
        self.smtp_port = free_port()
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.smtp_port)
        await asyncio.to_thread(self.controller.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.controller.stop)

    def config(self, **changes: Any) -> Any:
        settings = {
            "host": "127.0.0.1",
            "port": self.smtp_port,
            "security": "none",
            "sender": "no-reply@force.example.police.uk",
            "to": ("records@partner.example.org",),
            "subject": "Record {{ ref }}",
            "text": "A record for {{ name }} is attached.\nEvent {{ event.id }}",
            "attach_body": True,
            "attachment_name": "record-{{ ref }}.json",
            "timeout": 5,
            **changes,
        }
        return self.config_class(**settings)

    def outbound(self, **changes: Any) -> OutboundConnector:
        return self.outbound_class(self.name, self.config(**changes))

    async def unavailable_outbound(self) -> OutboundConnector:
        connector = self.outbound_class(self.name, self.config(port=free_port(), timeout=3))
        await connector.start()
        return connector

    def parsed(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
            for raw in self.recorder.messages
        ]

    async def received(self, count: int, timeout: float = 15.0) -> list[Any]:
        await eventually(lambda: len(self.recorder.messages) >= count, timeout)
        found = []
        for message in self.parsed():
            [attachment] = list(message.iter_attachments())
            found.append(json.loads(attachment.get_content()))
        return found

    def idle_connectors(self, port: int, folder: Path) -> list[object]:
        return [self.outbound_class(self.name, self.config(port=port))]


HARNESSES: dict[str, type[Harness]] = {
    h.kind: h
    for h in (HttpHarness, SoapHarness, FileHarness, NatsHarness, AmqpHarness, MqttHarness, EmailHarness)
}
SERVICE_MARKS = {"nats": pytest.mark.nats, "amqp": pytest.mark.rabbitmq, "mqtt": pytest.mark.mqtt}


def kind_params(*, inbound: bool = False) -> list[Any]:
    """``pytest.param`` per kind, marked with the service it needs."""
    return [
        pytest.param(kind, marks=[SERVICE_MARKS[kind]] if kind in SERVICE_MARKS else [], id=kind)
        for kind, harness in HARNESSES.items()
        if harness.has_inbound or not inbound
    ]


class Listener:
    """A listening socket: proves nobody connected to it."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen()
        self.socket.setblocking(False)
        self.port = int(self.socket.getsockname()[1])

    def connected(self) -> bool:
        try:
            connection, _ = self.socket.accept()
        except BlockingIOError:
            return False
        connection.close()
        return True

    def close(self) -> None:
        self.socket.close()
