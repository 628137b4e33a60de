"""The connector registry: which kinds of connector the hub can build, by name.

Tests build an empty ``ConnectorRegistry()`` and register what they need; the
hub uses ``default_registry()``, which names every built-in kind without
importing it. A kind is imported the first time it is asked for, so a kind
whose optional extra is not installed is still listed, and asking for it says
which extra to install.

**Adding a kind** (one line in ``default_registry``)::

    registry.register_lazy("amqp", "polestar.connectors.amqp:KIND", extra="amqp")

where ``polestar/connectors/amqp/__init__.py`` defines ``KIND = ConnectorKind(...)``.
Keep that module importable without the extra (import only ``config.py`` at
module level and the client inside the factories, or let the import fail:
either way the registry turns the ``ImportError`` into "install polestar[amqp]").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from polestar.connectors.contract import ConnectorKind, InboundConnector, OutboundConnector
from polestar.connectors.spec import ConnectorSpec


@dataclass(frozen=True, slots=True)
class _LazyKind:
    target: str
    extra: str | None


class ConnectorRegistry:
    """Connector kinds by name; build one empty in tests and register what the test needs."""

    def __init__(self) -> None:
        self._kinds: dict[str, ConnectorKind | _LazyKind] = {}

    def register(self, kind: ConnectorKind) -> None:
        """Add ``kind``; a name may be registered once."""
        self._claim(kind.name)
        self._kinds[kind.name] = kind

    def register_lazy(self, name: str, target: str, *, extra: str | None = None) -> None:
        """Add a kind imported on first use from ``target`` (``"package.module:ATTRIBUTE"``).

        ``extra`` is the pip extra its client needs, named when the import fails.
        """
        if ":" not in target:
            raise ValueError(f"target {target!r} must be 'module:attribute'")
        self._claim(name)
        self._kinds[name] = _LazyKind(target, extra)

    def _claim(self, name: str) -> None:
        if name in self._kinds:
            raise ValueError(f"connector kind {name!r} is already registered")

    def kinds(self) -> tuple[str, ...]:
        """Every registered kind's name, sorted, whether or not its extra is installed."""
        return tuple(sorted(self._kinds))

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def kind(self, name: str) -> ConnectorKind:
        """The kind called ``name``.

        Raises:
            LookupError: no kind has that name (the message lists the known ones).
            ImportError: the kind needs an extra that is not installed (the message names it).
        """
        entry = self._kinds.get(name)
        if entry is None:
            known = ", ".join(self.kinds()) or "none registered"
            raise LookupError(f"unknown connector kind {name!r}; known kinds: {known}")
        if isinstance(entry, ConnectorKind):
            return entry
        loaded = _load(name, entry)
        self._kinds[name] = loaded
        return loaded

    def build_inbound(self, spec: ConnectorSpec) -> InboundConnector:
        """The inbound side of a validated ``spec``, constructed (no I/O yet)."""
        kind = self.kind(spec.kind)
        if kind.inbound is None or spec.inbound is None:
            raise ValueError(f"connector {spec.name!r} ({spec.kind}) has no inbound side configured")
        factory = kind.inbound
        connector: InboundConnector = _guarded(kind, lambda: factory(spec.name, spec.inbound))
        return connector

    def build_outbound(self, spec: ConnectorSpec) -> OutboundConnector:
        """The outbound side of a validated ``spec``, constructed (no I/O yet)."""
        kind = self.kind(spec.kind)
        if kind.outbound is None or spec.outbound is None:
            raise ValueError(f"connector {spec.name!r} ({spec.kind}) has no outbound side configured")
        factory = kind.outbound
        connector: OutboundConnector = _guarded(kind, lambda: factory(spec.name, spec.outbound))
        return connector


def _install_hint(name: str, extra: str | None) -> str:
    if extra is None:
        return f"connector kind {name!r} could not be imported"
    return (
        f"connector kind {name!r} needs an optional extra: "
        f"install polestar[{extra}] (pip install 'polestar[{extra}]')"
    )


def _load(name: str, entry: _LazyKind) -> ConnectorKind:
    module_name, attribute = entry.target.split(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"{_install_hint(name, entry.extra)}: {exc}") from exc
    kind = getattr(module, attribute, None)
    if not isinstance(kind, ConnectorKind):
        raise TypeError(f"{entry.target} is not a ConnectorKind")
    if kind.name != name:
        raise TypeError(f"{entry.target} is kind {kind.name!r}, registered as {name!r}")
    return kind if kind.extra is not None or entry.extra is None else _with_extra(kind, entry.extra)


def _with_extra(kind: ConnectorKind, extra: str) -> ConnectorKind:
    return ConnectorKind(
        name=kind.name,
        inbound_config=kind.inbound_config,
        outbound_config=kind.outbound_config,
        inbound=kind.inbound,
        outbound=kind.outbound,
        extra=extra,
    )


def _guarded(kind: ConnectorKind, build: Any) -> Any:
    try:
        return build()
    except ImportError as exc:
        raise ImportError(f"{_install_hint(kind.name, kind.extra)}: {exc}") from exc


def default_registry() -> ConnectorRegistry:
    """The built-in kinds, registered lazily: one line per kind."""
    registry = ConnectorRegistry()
    registry.register_lazy("file", "polestar.connectors.file:KIND")
    registry.register_lazy("http", "polestar.connectors.http:KIND")
    registry.register_lazy("soap", "polestar.connectors.soap:KIND")
    registry.register_lazy("nats", "polestar.connectors.nats:KIND", extra="nats")
    registry.register_lazy("amqp", "polestar.connectors.amqp:KIND", extra="amqp")
    registry.register_lazy("mqtt", "polestar.connectors.mqtt:KIND", extra="mqtt")
    registry.register_lazy("email", "polestar.connectors.email:KIND", extra="email")
    return registry
