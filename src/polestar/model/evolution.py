"""Putting canonical models into envelopes, reading them back, and upcasting old versions.

Every envelope that carries a POLE payload names its schema and version in
``dataschema`` (``urn:polestar:schema:person:1.0``). Reading one back:

* an unknown schema, or a newer *major* version, raises ``SchemaVersionError``;
* a newer *minor* version is read if it validates (it only added optional
  fields, and the sender left them empty); if it carries fields this hub does
  not know yet, ``SchemaVersionError`` says which;
* an older version is upcast step by step with the functions registered in an
  :class:`Upcasters` registry, then validated. Within one major version no step
  is needed, because changes there are additive: old data is still valid.

See ``docs/model-evolution.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from polestar.errors import ModelError, SchemaVersionError
from polestar.model.catalogue import EVENT_TYPES
from polestar.model.common import Entity
from polestar.model.envelope import Envelope, parse_schema_urn, schema_urn
from polestar.model.marking import ProtectiveMarking
from polestar.model.registry import SCHEMA_VERSIONS, model_for, schema_name_of

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
"""Takes the data of one version (a fresh copy it may change) and returns the data of the next."""

Version = tuple[int, int]

M = TypeVar("M", bound=BaseModel)


def parse_version(text: str) -> Version:
    """``"1.2"`` -> ``(1, 2)``."""
    major, _, minor = text.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise ValueError(f"schema version {text!r} is not MAJOR.MINOR")
    return int(major), int(minor)


def _text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True, slots=True)
class UpcastStep:
    """One registered step: turns ``schema`` data at ``source`` into data at ``target``."""

    schema: str
    source: Version
    target: Version
    upcast: Upcaster


class Upcasters:
    """A registry of upcast steps. The hub uses :data:`UPCASTERS`; tests can build an empty one."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, Version], UpcastStep] = {}

    def add(self, schema: str, source: str, target: str, upcast: Upcaster) -> None:
        """Register ``upcast`` as the step from ``schema`` ``source`` to ``target``."""
        step = UpcastStep(schema, parse_version(source), parse_version(target), upcast)
        if step.target <= step.source:
            raise ModelError(f"an upcaster for {schema} must go to a later version, not {source} -> {target}")
        if (schema, step.source) in self._steps:
            raise ModelError(f"an upcaster for {schema} {source} is already registered")
        self._steps[(schema, step.source)] = step

    def register(self, schema: str, source: str, target: str) -> Callable[[Upcaster], Upcaster]:
        """Decorator form of :meth:`add`."""

        def decorate(upcast: Upcaster) -> Upcaster:
            self.add(schema, source, target, upcast)
            return upcast

        return decorate

    def steps(self, schema: str) -> list[UpcastStep]:
        """The steps registered for ``schema``, oldest first."""
        return sorted((s for s in self._steps.values() if s.schema == schema), key=lambda s: s.source)

    def upcast(self, schema: str, version: Version, current: Version, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` of ``schema`` at ``version`` brought up to ``current``."""
        while version < current:
            step = self._steps.get((schema, version))
            if step is None:
                if version[0] == current[0]:
                    break  # additive within a major version: old data is still valid
                raise SchemaVersionError(
                    f"cannot read {schema} {_text(version)}: no upcaster from it is registered "
                    f"and this hub reads {_text(current)}"
                )
            data = step.upcast(dict(data))
            version = step.target
        if version > current:
            raise SchemaVersionError(
                f"upcasting {schema} overshot: reached {_text(version)} but this hub reads {_text(current)}"
            )
        return data


UPCASTERS = Upcasters()
"""The hub's upcasters. Register a step beside the model change that needs it."""


def to_envelope(entity: Entity, *, type: str, source: str, **attributes: Any) -> Envelope:  # noqa: A002 - CloudEvents name
    """An envelope carrying ``entity`` as its data, ``dataschema`` naming its schema and version.

    ``classification`` is the entity's marking; ``subject`` and ``partitionkey``
    default to the entity id, so events about one entity stay in order. Other
    envelope attributes (``correlationid``, ``actor``, ``time``...) pass through.
    A catalogued event type must carry its catalogued schema. Empty optional
    fields are left out of the data: absent and null mean the same.
    """
    name = schema_name_of(entity.__class__)
    spec = EVENT_TYPES.get(type)
    if spec is not None and spec.schema != name:
        raise ModelError(f"event type {type!r} carries {spec.schema!r}, not {name!r}")
    label = attributes.pop("classification", entity.marking.label)
    if not ProtectiveMarking.parse(label).dominates(entity.marking):
        raise ModelError(f"classification {label!r} is lower than the payload's {entity.marking.label!r}")
    attributes.setdefault("subject", entity.id)
    attributes.setdefault("partitionkey", entity.id)
    return Envelope(
        source=source,
        type=type,
        dataschema=schema_urn(name, SCHEMA_VERSIONS[name]),
        data=entity.model_dump(mode="json", exclude_none=True),
        classification=label,
        **attributes,
    )


@overload
def from_envelope(envelope: Envelope, expect: None = None, *, upcasters: Upcasters = ...) -> BaseModel: ...
@overload
def from_envelope(envelope: Envelope, expect: type[M], *, upcasters: Upcasters = ...) -> M: ...


def from_envelope(
    envelope: Envelope, expect: type[M] | None = None, *, upcasters: Upcasters = UPCASTERS
) -> BaseModel:
    """The typed model an envelope carries, upcast to the current version if it is older.

    Raises ``SchemaVersionError`` for a missing or unknown schema or a version
    this hub cannot read, ``ModelError`` if the data is not the ``expect``-ed
    model or is marked above the envelope, and pydantic's ``ValidationError``
    (naming each field) if the data is invalid.
    """
    if envelope.dataschema is None:
        raise SchemaVersionError(f"envelope {envelope.id} has no dataschema")
    name, version = parse_schema_urn(envelope.dataschema)
    model = model_for(name)
    current = parse_version(SCHEMA_VERSIONS[name])
    if version[0] > current[0]:
        raise SchemaVersionError(
            f"{name} {_text(version)} is a newer major version than this hub reads ({_text(current)})"
        )
    if envelope.data is None:
        raise ModelError(f"envelope {envelope.id} has no data")
    data = dict(envelope.data)
    if version < current:
        data = upcasters.upcast(name, version, current, data)
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        unknown = [".".join(map(str, e["loc"])) for e in exc.errors() if e["type"] == "extra_forbidden"]
        if version > current and unknown:
            raise SchemaVersionError(
                f"{name} {_text(version)} is newer than this hub reads ({_text(current)}) and carries "
                f"fields it does not know: {', '.join(unknown)}"
            ) from exc
        raise
    if expect is not None and not isinstance(result, expect):
        raise ModelError(f"envelope {envelope.id} carries a {name}, not a {expect.__name__}")
    if isinstance(result, Entity) and not envelope.marking.dominates(result.marking):
        raise ModelError(
            f"envelope {envelope.id} is marked {envelope.classification!r}, "
            f"below its payload's {result.marking.label!r}"
        )
    return result
