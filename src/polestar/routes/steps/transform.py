"""``map`` and ``set``: change a message's payload or attributes.

Events a mapping or function makes are recorded as caused by the input
(``causationid``, ``correlationid``), keep its protective marking (a
transform never lowers it) and get ids derived from the input, so a
redelivered message maps to the same ids.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import ValidationError

from polestar.errors import MappingFailed
from polestar.mapping.contract import InboundMapping, MappingContext
from polestar.model.envelope import Envelope
from polestar.routes.config import SetStep
from polestar.routes.derive import derived_id, revalidated, route_source
from polestar.routes.expressions import evaluate_for

EnvelopeFunction = Callable[[Envelope], Any]
"""A ``map`` function: returns an envelope, a list of them, None, or an awaitable of those."""


def load_function(reference: str) -> EnvelopeFunction:
    """Import ``package.module:function``; raises ``ValueError`` saying what is missing."""
    module_name, _, attribute = reference.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ValueError(f"{module_name!r} has no function {attribute!r}")  # noqa: TRY004 - a config problem
    return function  # type: ignore[no-any-return]


class _Caused:
    """Stamps what a transform made as caused by its input."""

    def __init__(self, route: str, label: str) -> None:
        self.route = route
        self.label = label

    def stamp(self, source: Envelope, made: Sequence[Envelope]) -> list[Envelope]:
        return [
            revalidated(
                item,
                id=derived_id(self.route, self.label, source.id, number),
                causationid=source.id,
                correlationid=source.correlationid or source.id,
                classification=source.classification,
                actor=item.actor or source.actor,
                purpose=item.purpose or source.purpose,
                partitionkey=item.partitionkey or source.partitionkey,
                traceparent=item.traceparent or source.traceparent,
            )
            for number, item in enumerate(made)
        ]


class MapWithMapping(_Caused):
    """Applies an inbound mapping to ``data`` (canonical to canonical)."""

    def __init__(self, mapping: Callable[[], InboundMapping], *, route: str, index: int) -> None:
        super().__init__(route, f"map{index}")
        self.mapping = mapping
        """Finds the mapping on each call, so a reloaded mapping applies at once."""

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """The events the mapping makes from ``data``."""
        context = MappingContext(
            connector=f"route:{self.route}",
            source=route_source(self.route),
            where=f"event {envelope.id}",
            received_at=envelope.time,
            reference=envelope.id,
            actor=envelope.actor,
            correlationid=envelope.correlationid or envelope.id,
        )
        made = self.mapping().to_canonical(envelope.data or {}, context)
        return self.stamp(envelope, made)


class MapWithFunction(_Caused):
    """Calls a Python function on the envelope."""

    def __init__(self, function: EnvelopeFunction, *, route: str, index: int) -> None:
        super().__init__(route, f"map{index}")
        self.function = function

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """What the function returns, as envelopes."""
        result = self.function(envelope)
        if inspect.isawaitable(result):
            result = await _awaited(result)
        if result is None:
            return []
        made = [result] if isinstance(result, Envelope) else list(result)
        if not all(isinstance(item, Envelope) for item in made):
            raise MappingFailed("a map function must return envelopes", where=f"event {envelope.id}")
        # An unchanged envelope is the same event, not a new one caused by it.
        if len(made) == 1 and made[0] is envelope:
            return made
        return self.stamp(envelope, made)


async def _awaited(value: Awaitable[Any]) -> Any:
    return await value


class SetFields:
    """Sets ``data.<path>`` or envelope attributes from expressions over the envelope as it arrived."""

    def __init__(self, config: SetStep) -> None:
        self.config = config

    async def __call__(self, envelope: Envelope) -> Sequence[Envelope]:
        """The envelope with the fields set."""
        data = _deep_copy(envelope.data or {})
        attributes: dict[str, Any] = {}
        for target, expr in self.config.values.items():
            value = evaluate_for(f"set {target}", expr, envelope)
            if target.startswith("data."):
                put(data, target.removeprefix("data."), value)
            else:
                attributes[target] = value
        try:
            return [revalidated(envelope, data=data, **attributes)]
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"])
            raise MappingFailed(first["msg"], field=field, where=f"event {envelope.id}") from None


def put(data: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``data[a][b]...`` for ``a.b...``, creating objects on the way."""
    *parents, last = dotted.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[last] = value


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value
