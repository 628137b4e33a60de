"""``call``: request/reply with a system through its outbound connector, keeping its answer.

A ``to: connector`` output delivers and forgets what the system said; some
flows need the answer (crime recording's crime reference number, a gateway's
acknowledgement id). This step delivers the event exactly as that output would
(outbound mapping, the system's format, the event id as idempotency key) and
puts the answer in ``data.<into>`` for the steps after it, e.g. a ``map``
that turns it into a canonical link event and a ``to: subject`` that
publishes it. A redelivered message sends the same idempotency key, so a
system that honours it answers with its first reply rather than acting twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from polestar.connectors.codecs import DEFAULT_OPTIONS, RecordFormat
from polestar.connectors.contract import OutboundConnector
from polestar.connectors.spec import ConnectorSpec
from polestar.errors import DeliveryFailed
from polestar.mapping.contract import OutboundMapping
from polestar.model.envelope import Envelope
from polestar.routes.config import CallStep, ConnectorOutput
from polestar.routes.counters import Counters
from polestar.routes.outputs import ConnectorDelivery, DeliveryGate, DeliveryRecorder
from polestar.routes.steps.transform import put


class Call:
    """Delivers through ``config.connector`` and stores the system's answer at ``data.<into>``."""

    def __init__(
        self,
        config: CallStep,
        *,
        spec: ConnectorSpec | None,
        connector: OutboundConnector | None,
        mapping: Callable[[], OutboundMapping] | None,
        counters: Counters | None = None,
    ) -> None:
        self.config = config
        output = ConnectorOutput(
            connector=config.connector,
            mapping=config.mapping,
            format=config.format,
            target=config.target,
            headers=config.headers,
        )
        record_format = config.format or (spec.format if spec is not None else RecordFormat.JSON)
        self.delivery = ConnectorDelivery(
            output,
            connector=connector,
            mapping=mapping,
            record_format=record_format,
            codec=spec.codec if spec is not None else DEFAULT_OPTIONS,
            counters=counters,
        )
        self.on_delivered: DeliveryRecorder | None = None
        """Told of each call the system accepted (the audit's disclosure; the runtime sets it)."""
        self.gate: DeliveryGate | None = None
        """Asked before each call (the data-sharing agreement check; the runtime sets it)."""

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """Call the system; return the envelope with its answer in ``data``."""
        connector = self.delivery.connector
        if connector is None:
            raise DeliveryFailed(f"connector {self.config.connector} is not running")
        sent = (
            envelope
            if self.gate is None
            else await self.gate(self.config.connector, self.config.target, envelope)
        )
        message = self.delivery.message(sent)
        try:
            receipt = await connector.deliver(message)
        except Exception as exc:
            self.delivery.counters.fail(f"{type(exc).__name__}: {exc}")
            raise
        self.delivery.counters.delivered += 1
        if self.on_delivered is not None:
            await self.on_delivered(self.config.connector, message.target, sent)
        answer = answer_of(receipt.reference, receipt.response)
        data = _copied_along(envelope.data or {}, self.config.into)
        put(data, self.config.into, answer)
        return [envelope.model_copy(update={"data": data})]


def answer_of(reference: str | None, response: Mapping[str, Any]) -> dict[str, Any]:
    """What a call step stores: the system's reference, status and body."""
    return {"reference": reference, "status": response.get("status"), "body": response.get("body")}


def check_call_step(
    step: CallStep, connectors: Mapping[str, ConnectorSpec], outbound_mapping: Callable[[str], str | None]
) -> list[tuple[tuple[str, ...], str]]:
    """Problems with ``step``'s names, each as (path below the step, reason).

    ``outbound_mapping(name)`` gives the direction of the mapping ``name`` (None: no such mapping).
    """
    spec = connectors.get(step.connector)
    if spec is None:
        known = ", ".join(sorted(connectors)) or "none"
        return [(("connector",), f"no connector is named {step.connector!r}; known: {known}")]
    problems: list[tuple[tuple[str, ...], str]] = []
    if spec.outbound is None:
        problems.append((("connector",), f"connector {step.connector!r} has no outbound side to call"))
    mapping = step.mapping or spec.mapping.outbound
    if mapping is not None:
        direction = outbound_mapping(mapping)
        where = ("mapping",) if step.mapping else ("connector",)
        if direction is None:
            problems.append((where, f"no outbound mapping is named {mapping!r}"))
        elif direction != "outbound":
            problems.append((where, f"mapping {mapping!r} is {direction}, but an outbound mapping is needed"))
    return problems


def _copied_along(data: Mapping[str, Any], dotted: str) -> dict[str, Any]:
    # Copy the objects on the path before writing, so the input envelope is left as it was.
    top: dict[str, Any] = dict(data)
    node = top
    for part in dotted.split(".")[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            break
        node[part] = dict(child)
        node = node[part]
    return top
