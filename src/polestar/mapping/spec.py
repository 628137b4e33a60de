"""The mapping file as pydantic models; the reference in ``docs/mappings.md`` is generated from them.

A mapping file holds any of ``code_lists:``, ``mappings:`` and ``tests:``; a
file of fixtures alone is conventionally named ``*.test.yaml``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from polestar.mapping.codelists import CodeListSpec
from polestar.model.envelope import check_event_type

Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$", max_length=64)]
"""A mapping, output or code list name: lower case, words joined by ``-`` or ``_``."""

Expression = Annotated[str, StringConstraints(min_length=1)]
"""A JMESPath expression, compiled and checked when the file is loaded."""

Tree = dict[str, Any]
"""A field tree: see the module docstring of :mod:`polestar.mapping.templates`."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- directives inside a field tree -------------------------------------------------------------


class _Directive(_Spec):
    when: Expression | None = Field(
        default=None,
        alias="$when",
        description="Leave the field out unless this expression is true (JMESPath truth).",
        examples=["arrest_date"],
    )


class ConstDirective(_Directive):
    """`{$const: VALUE}`: a fixed value, written as YAML (no quoting for JMESPath needed)."""

    const: Any = Field(alias="$const", description="The value.", examples=["Charing Cross"])


class ExprDirective(_Directive):
    """`{$expr: EXPRESSION}`: an expression, written this way to give it a `$when`."""

    expr: Expression = Field(alias="$expr", description="The JMESPath expression.", examples=["dob"])


class EachDirective(_Directive):
    """`{$each: EXPRESSION, $item: TREE}`: an array with one item per element of a list in the record."""

    each: Expression = Field(
        alias="$each",
        description="The list to walk; a lone object counts as a list of one (a single XML element).",
        examples=["co_accused"],
    )
    item: Any = Field(
        default="@",
        alias="$item",
        description="The tree for one item; inside it `@` is the element and `record()` the whole record.",
        examples=[{"type": "'PNC'", "value": "@"}],
    )


class PythonDirective(_Directive):
    """`{$python: 'package.module:function', $args: [...]}`: one field computed by a Python function."""

    python: str = Field(
        alias="$python",
        description="The function, imported when the file is loaded.",
        examples=["polestar_force.mappings:canonical_station"],
    )
    args: list[Expression] = Field(
        default=["@"],
        alias="$args",
        description="Expressions whose values are passed as positional arguments.",
        examples=[["station_code"]],
    )


DIRECTIVE_MODELS: dict[str, type[_Directive]] = {
    "$const": ConstDirective,
    "$expr": ExprDirective,
    "$each": EachDirective,
    "$python": PythonDirective,
}


# --- mappings ------------------------------------------------------------------------------------


def _event_type(value: str) -> str:
    return check_event_type(value)


class OutputSpec(_Spec):
    """One canonical event an inbound mapping produces from each record (or from each item)."""

    name: Name | None = Field(
        default=None,
        description="Names the output in errors and for `id_of()`; defaults to the schema name.",
        examples=["detainee"],
    )
    schema_name: str = Field(
        alias="schema",
        description="The canonical schema of the event's data (a name from `CANONICAL_MODELS`).",
        examples=["custody-episode", "person", "link"],
    )
    type: str = Field(
        description="The event type; a catalogued type must carry its catalogued schema.",
        examples=["custody.episode.opened"],
    )
    id: Expression | None = Field(
        default=None,
        description="The entity id; use `stable_id()` so re-ingesting a record gives the same id.",
        examples=["stable_id('custody-episode', custody_no)"],
    )
    subject: Expression | None = Field(
        default=None, description="The envelope subject; defaults to the entity id.", examples=["custody_no"]
    )
    partitionkey: Expression | None = Field(
        default=None,
        description="Events with one key stay in order; defaults to the entity id.",
        examples=["custody_no"],
    )
    classification: Expression | None = Field(
        default=None,
        description=(
            "The protective marking label; also the entity's marking unless `fields.marking` is given. "
            "Defaults to the entity's marking."
        ),
        examples=["'OFFICIAL-SENSITIVE [PERSONAL]'"],
    )
    time: Expression | None = Field(
        default=None,
        description="When it happened (ISO 8601 with offset); defaults to when the record was received.",
        examples=["to_utc(date(arrest_date, '%d/%m/%Y'), arrest_time, 'Europe/London')"],
    )
    when: Expression | None = Field(
        default=None,
        description="Produce this output only when the expression is true.",
        examples=["surname"],
    )
    for_each: Expression | None = Field(
        default=None,
        description="Produce one event per element of this list; inside, `@` is the element.",
        examples=["persons"],
    )
    fields: Tree = Field(
        description="The canonical payload: field name to expression, constant, object, array or directive.",
        examples=[{"custody_record_number": "custody_no", "name": {"family": "surname"}}],
    )

    _check_type = field_validator("type")(_event_type)


class InboundMappingSpec(_Spec):
    """A declarative mapping from one system record to canonical events."""

    name: Name = Field(description="How connectors and fixtures name the mapping.", examples=["custody-csv"])
    direction: Literal["inbound"] = Field(description="System record to canonical events.")
    description: str | None = Field(default=None, description="What the mapping is for.")
    provenance: Tree = Field(
        default_factory=dict,
        description=(
            "A tree merged into every output's `provenance`; `recorded_at` defaults to when the record "
            "was received."
        ),
        examples=[
            {"organisation": {"$const": "01"}, "system": {"$const": "custody"}, "reference": "custody_no"}
        ],
    )
    outputs: list[OutputSpec] = Field(min_length=1, description="The events made from each record, in order.")
    ignore_when: Expression | None = Field(
        default=None,
        description=(
            "Records for which this is true make no event, by design: they are taken and listed as "
            "`unmapped`. A record no output applies to, and this does not cover, is rejected "
            "(a misspelt event type must not vanish)."
        ),
        examples=["eventType == 'CRIME_REFERENCE_LINKED' && !callId"],
    )


class OutboundMappingSpec(_Spec):
    """A declarative mapping from one canonical event to a system record."""

    name: Name = Field(
        description="How connectors and fixtures name the mapping.", examples=["warehouse-csv"]
    )
    direction: Literal["outbound"] = Field(description="Canonical event to system record.")
    description: str | None = Field(default=None, description="What the mapping is for.")
    schema_name: str | None = Field(
        default=None,
        alias="schema",
        description="The canonical schema the event must carry; its data is validated (and upcast) first.",
        examples=["custody-episode"],
    )
    types: list[str] = Field(
        default_factory=list,
        description="The event types accepted; empty accepts any.",
        examples=[["custody.episode.opened", "custody.detainee.released"]],
    )
    format: Literal["json", "csv", "xml"] = Field(
        default="json",
        description=(
            "The record's shape: `csv` is one flat row (every column present, text); `xml` has one root "
            "key and uses `@attr` / `#text` keys; `json` is any tree."
        ),
    )
    record: Tree = Field(
        min_length=1,
        description="The record template; leaves are expressions over the envelope (`data.name.family`).",
        examples=[{"custody_no": "data.custody_record_number", "suite": "data.custody_suite"}],
    )

    _check_types = field_validator("types")(lambda values: [_event_type(v) for v in values])


class PythonMappingSpec(_Spec):
    """A mapping written in Python, for what a declaration cannot say."""

    name: Name = Field(description="How connectors and fixtures name the mapping.")
    direction: Literal["inbound", "outbound"] = Field(description="Which way it maps.")
    description: str | None = Field(default=None, description="What the mapping is for.")
    python: str = Field(
        description=(
            "`package.module:name` of an object with `to_canonical` / `from_canonical` (a class is "
            "instantiated without arguments), or a plain function: inbound `record -> dict | list[dict]` of "
            "canonical data of `schema`, outbound `envelope dict -> record`."
        ),
        examples=["polestar_force.pnc:PncReplyMapping"],
    )
    schema_name: str | None = Field(
        default=None, alias="schema", description="Schema of the dicts a plain inbound function returns."
    )
    type: str | None = Field(default=None, description="Event type for a plain inbound function's dicts.")

    _check_type = field_validator("type")(lambda value: value if value is None else _event_type(value))


def _mapping_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "python" in value:
            return "python-mapping"
        if value.get("direction") == "outbound":
            return "outbound-mapping"
    return "inbound-mapping"


MAPPING_TAGS = frozenset({"python-mapping", "outbound-mapping", "inbound-mapping"})

MappingSpec = Annotated[
    Annotated[InboundMappingSpec, Tag("inbound-mapping")]
    | Annotated[OutboundMappingSpec, Tag("outbound-mapping")]
    | Annotated[PythonMappingSpec, Tag("python-mapping")],
    Discriminator(_mapping_kind),
]


# --- fixtures ------------------------------------------------------------------------------------

FIXTURE_RECEIVED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FixtureContext(_Spec):
    """Where the fixture's record is said to come from."""

    connector: str = Field(default="fixture", description="Connector name (part of every `stable_id`).")
    source: str = Field(default="/connectors/fixture", description="The envelope source.")
    reference: str | None = Field(default=None, description="The transport's reference, e.g. a file name.")
    received_at: AwareDatetime = Field(default=FIXTURE_RECEIVED_AT, description="When it was received.")
    actor: str | None = Field(default=None, description="The acting identity.")
    correlationid: str | None = Field(default=None, description="The correlation id.")
    headers: dict[str, str] = Field(default_factory=dict, description="Transport headers.")


class ExpectedEvent(_Spec):
    """One event an inbound fixture expects, in order."""

    type: str = Field(description="The event type.", examples=["person.created"])
    schema_name: str | None = Field(default=None, alias="schema", description="The data's schema name.")
    subject: str | None = Field(default=None, description="The envelope subject, if checked.")
    partitionkey: str | None = Field(default=None, description="The partition key, if checked.")
    classification: str | None = Field(default=None, description="The marking label, if checked.")
    data: dict[str, Any] | None = Field(default=None, description="The data, compared as `match` says.")


class ExpectedFailure(_Spec):
    """The failure a fixture expects instead of output."""

    field: str | None = Field(
        default=None, description="`MappingFailed.field`, exactly.", examples=["person.date_of_birth.value"]
    )
    reason: str | None = Field(
        default=None, description="A substring of the reason.", examples=["is not a date"]
    )


class FixtureSpec(_Spec):
    """A mapping test: an input, and the output (or the failure) it must give."""

    name: str = Field(description="What the fixture shows.", examples=["arrest in summer time"])
    mapping: Name = Field(description="The mapping under test.")
    description: str | None = Field(default=None, description="Why the case matters.")
    input: Any = Field(
        default=None,
        description=(
            "Inbound: the record (a CSV row is an object of column to text). Outbound: the event as "
            "`{type, schema, data}` (validated) or a whole CloudEvent."
        ),
    )
    raw: str | None = Field(default=None, description="Inbound: the text as received, read by `format`.")
    format: Literal["json", "csv", "xml"] | None = Field(
        default=None,
        description="How `raw` is read: every CSV row and every element of a JSON array is a record.",
    )
    context: FixtureContext = Field(default_factory=FixtureContext, description="Where the input came from.")
    match: Literal["subset", "exact"] = Field(
        default="subset",
        description=(
            "`subset`: every key given must be equal, others are ignored (lists must have the same length). "
            "`exact`: data (or the record) must be equal. The number and order of events are always exact."
        ),
    )
    events: list[ExpectedEvent] | None = Field(default=None, description="Inbound: the events expected.")
    record: Any = Field(default=None, description="Outbound: the record expected.")
    failure: ExpectedFailure | None = Field(default=None, description="The failure expected.")

    @model_validator(mode="after")
    def _one_input_one_expectation(self) -> Self:
        if (self.raw is None) == ("input" not in self.model_fields_set):
            raise ValueError("give exactly one of 'input' and 'raw'")
        if self.raw is not None and self.format is None:
            raise ValueError("'raw' needs a 'format' (json, csv or xml)")
        given = [n for n in ("events", "record", "failure") if n in self.model_fields_set]
        if len(given) != 1:
            raise ValueError("give exactly one of 'events', 'record' and 'failure'")
        return self


class MappingFile(_Spec):
    """A mapping file: code lists, mappings and fixtures, each part optional."""

    code_lists: dict[Name, CodeListSpec] = Field(
        default_factory=dict, description="Code lists by name, shared with every file loaded alongside."
    )
    mappings: list[MappingSpec] = Field(default_factory=list, description="The mappings.")
    tests: list[FixtureSpec] = Field(
        default_factory=list, description="Fixtures: `polestar mapping test` runs them."
    )
