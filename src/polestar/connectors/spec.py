"""One configured connector, as written under ``connectors:`` in YAML.

::

    connectors:
      - name: custody-files
        kind: file
        description: Nightly custody extract from the custody system
        format: csv
        mapping: {inbound: custody-csv}
        inbound:
          folder: /srv/drop/custody

``validate_connector_specs`` checks a list of them against a
``ConnectorRegistry``: the common fields here, then ``inbound``/``outbound``
against the kind's own config models. Every problem is reported in one
pydantic ``ValidationError`` whose locations are paths into the list
(``(0, "inbound", "folder")``), ready to be turned into ``file:line:col`` by
``polestar.config.yaml_document``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from polestar.bus.contract import check_subject
from polestar.connectors.codecs import CodecOptions, RecordFormat

if TYPE_CHECKING:
    from polestar.connectors.registry import ConnectorRegistry

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$", max_length=64)]


class ConnectorMappings(BaseModel):
    """The mappings a connector uses, by name (see ``polestar.mapping``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inbound: str | None = Field(
        default=None, description="Maps the system's records to canonical events.", examples=["custody-csv"]
    )
    outbound: str | None = Field(
        default=None,
        description="Maps canonical events to the system's records.",
        examples=["warehouse-custody-row"],
    )


class ConnectorSpec(BaseModel):
    """One configured connector: a kind, its format and mappings, and each side's settings.

    ``inbound`` and ``outbound`` hold the kind's validated config models once
    the spec has been through ``validate_connector_specs``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Slug = Field(description="The connector's name, unique in the hub.", examples=["custody-files"])
    kind: str = Field(description="A registered connector kind.", examples=["file", "http", "nats"])
    description: str | None = Field(default=None, description="What the connector links, for operators.")
    format: RecordFormat = Field(
        default=RecordFormat.JSON,
        description="The system's own format; 'cloudevents' means it sends canonical events.",
    )
    accept_cloudevents: bool = Field(
        default=False,
        description="Also accept canonical CloudEvents (structured or batched); they skip the mapping.",
    )
    codec: CodecOptions = Field(default_factory=CodecOptions, description="Format details.")
    mapping: ConnectorMappings = Field(default_factory=ConnectorMappings)
    subject: str | None = Field(
        default=None,
        description="Publish inbound events on this subject instead of each event's type.",
        examples=["custody.inbound"],
    )
    inbound: Any = Field(default=None, description="The kind's inbound settings.")
    outbound: Any = Field(default=None, description="The kind's outbound settings.")

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str | None) -> str | None:
        return None if value is None else check_subject(value)


def validate_connector_specs(raw: Sequence[Any], registry: ConnectorRegistry) -> list[ConnectorSpec]:
    """Validate ``raw`` (the YAML list) into specs, or raise one ``ValidationError`` naming every problem.

    Locations start with the item's index: ``(2, "inbound", "poll_interval")``.
    """
    problems: list[InitErrorDetails] = []
    specs: list[ConnectorSpec] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        try:
            spec = ConnectorSpec.model_validate(item)
        except ValidationError as exc:
            problems.extend(_relocated(exc, (index,)))
            continue
        if spec.name in seen:
            problems.append(
                _problem(
                    (index, "name"),
                    spec.name,
                    f"connector {spec.name!r} is already defined at [{seen[spec.name]}]",
                )
            )
        seen.setdefault(spec.name, index)
        checked = _check_sides(spec, index, registry, problems)
        if checked is not None:
            specs.append(checked)
    if problems:
        raise ValidationError.from_exception_data("connectors", problems)
    return specs


def _check_sides(
    spec: ConnectorSpec, index: int, registry: ConnectorRegistry, problems: list[InitErrorDetails]
) -> ConnectorSpec | None:
    try:
        kind = registry.kind(spec.kind)
    except LookupError as exc:
        problems.append(_problem((index, "kind"), spec.kind, str(exc.args[0])))
        return None
    except ImportError as exc:
        problems.append(_problem((index, "kind"), spec.kind, str(exc)))
        return None
    if spec.inbound is None and spec.outbound is None:
        problems.append(_problem((index,), None, "a connector needs an 'inbound' or an 'outbound' section"))
        return None
    update: dict[str, Any] = {}
    for side, model in (("inbound", kind.inbound_config), ("outbound", kind.outbound_config)):
        value = getattr(spec, side)
        if value is None:
            continue
        if model is None:
            problems.append(_problem((index, side), value, f"a {kind.name} connector has no {side} side"))
            continue
        try:
            update[side] = value if isinstance(value, model) else model.model_validate(value)
        except ValidationError as exc:
            problems.extend(_relocated(exc, (index, side)))
    if (
        spec.inbound is not None
        and kind.inbound_config is not None
        and spec.mapping.inbound is None
        and spec.format is not RecordFormat.CLOUDEVENTS
    ):
        problems.append(
            _problem(
                (index, "mapping"),
                None,
                "an inbound connector needs mapping.inbound unless its format is 'cloudevents'",
            )
        )
    return spec.model_copy(update=update)


def _problem(loc: tuple[str | int, ...], value: Any, message: str) -> InitErrorDetails:
    return {
        "type": PydanticCustomError("connector_spec", "{reason}", {"reason": message}),
        "loc": loc,
        "input": value,
    }


def _relocated(exc: ValidationError, prefix: tuple[str | int, ...]) -> list[InitErrorDetails]:
    return [
        {
            "type": PydanticCustomError(error["type"], "{reason}", {"reason": error["msg"]}),
            "loc": (*prefix, *error["loc"]),
            "input": error.get("input"),
        }
        for error in exc.errors()
    ]
