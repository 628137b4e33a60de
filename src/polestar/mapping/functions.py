"""The JMESPath functions policing data needs, beside JMESPath's own.

Expressions in a mapping are plain JMESPath (https://jmespath.org) run by the
``jmespath`` library with :class:`PolicingFunctions` registered. A function
that cannot do its job raises ``MappingFailed`` with the reason; the caller
adds the field it was computing. Every function passes ``null`` through (an
empty CSV cell is ``""``, and counts as ``null`` too), so an optional column
left empty simply leaves its field out.

What a function needs beyond its arguments (the record being mapped, where it
came from, the code lists, the ids given so far) is in the :class:`Scope` set
for the duration of one mapping call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jmespath
from jmespath import functions

from polestar.errors import MappingFailed
from polestar.mapping.codelists import CodeList
from polestar.mapping.contract import MappingContext

ENTITY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:polestar:entity")
"""The uuid5 namespace of ids derived with ``stable_id``; fixed forever, or re-ingest would fork ids."""

if TYPE_CHECKING:
    from jmespath.functions import _Signature

_STRING_OR_NULL: _Signature = {"types": ["string", "null"]}
_SCALAR_OR_NULL: _Signature = {"types": ["string", "number", "null"]}


def _derived_id(connector: str, kind: str, parts: tuple[Any, ...], call: str) -> str:
    """The uuid5 over ``connector``, ``kind`` and ``parts``; every part must be present."""
    for number, part in enumerate(parts, start=1):
        if _empty(part):
            raise MappingFailed(f"{call} needs every part, but part {number} is empty")
    key = "\x1f".join([connector, kind, *(str(p).strip() for p in parts)])
    return str(uuid.uuid5(ENTITY_NAMESPACE, key))


@dataclass
class Scope:
    """What functions may read while one record (or one event) is mapped."""

    record: Any
    context: MappingContext | None
    code_lists: Mapping[str, CodeList]
    ids: dict[str, str] = field(default_factory=dict)
    index: int | None = None


_SCOPE: ContextVar[Scope | None] = ContextVar("polestar_mapping_scope", default=None)


@contextmanager
def scoped(scope: Scope) -> Iterator[Scope]:
    """Make ``scope`` the one functions read, for the duration of the ``with`` block."""
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)


def current_scope() -> Scope | None:
    """The scope of the mapping call under way, if any."""
    return _SCOPE.get()


def _scope() -> Scope:
    scope = _SCOPE.get()
    if scope is None:
        raise MappingFailed("this function can only be used inside a mapping")
    return scope


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MappingFailed(f"{name!r} is not a known time zone (e.g. 'Europe/London')") from None


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_to_utc(naive: datetime, zone: str) -> str:
    """A wall-clock time in ``zone`` as ISO 8601 UTC.

    In the autumn hour that happens twice the first (summer-time) one is taken;
    a time in the spring gap never happened, and fails.
    """
    tz = _zone(zone)
    aware = naive.replace(tzinfo=tz, fold=0)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise MappingFailed(f"{naive.isoformat(sep=' ')} did not happen in {zone}: the clocks went forward")
    return _iso_utc(aware)


def _parse(value: str, fmt: str, what: str) -> datetime:
    try:
        return datetime.strptime(value.strip(), fmt)  # noqa: DTZ007 - a wall-clock reading, zoned by the caller
    except ValueError:
        raise MappingFailed(f"{value!r} is not a {what} in the format {fmt!r}") from None


class PolicingFunctions(functions.Functions):
    """JMESPath's built-in functions plus the ones listed in :data:`FUNCTION_DOCS`."""

    def call_function(self, function_name: str, resolved_args: Iterable[Any]) -> Any:
        """Run a function; anything it raises on bad data becomes ``MappingFailed``."""
        try:
            return super().call_function(function_name, list(resolved_args))
        except MappingFailed:
            raise
        except (ValueError, TypeError, LookupError, ArithmeticError) as exc:
            raise MappingFailed(f"{function_name}(): {exc}") from None

    # --- dates and times ---------------------------------------------------------------------

    @functions.signature(_STRING_OR_NULL, _STRING_OR_NULL, {"types": ["string"]})
    def _func_to_utc(self, day: str | None, time: str | None, zone: str) -> str | None:
        if _empty(day) or _empty(time):
            return None
        assert day is not None
        assert time is not None
        clock = time.strip()
        fmt = "%H:%M:%S" if clock.count(":") == 2 else "%H:%M"
        moment = _parse(f"{day.strip()} {clock}", f"%Y-%m-%d {fmt}", "date and time")
        return local_to_utc(moment, zone)

    @functions.signature(_STRING_OR_NULL, {"types": ["string"]}, {"types": ["string"]})
    def _func_datetime(self, value: str | None, fmt: str, zone: str) -> str | None:
        if _empty(value):
            return None
        assert value is not None
        moment = _parse(value, fmt, "date and time")
        if moment.tzinfo is not None:
            return _iso_utc(moment)
        return local_to_utc(moment, zone)

    @functions.signature(_STRING_OR_NULL, {"types": ["string"]})
    def _func_date(self, value: str | None, fmt: str) -> str | None:
        if _empty(value):
            return None
        assert value is not None
        return _parse(value, fmt, "date").date().isoformat()

    @functions.signature(_STRING_OR_NULL, {"types": ["string"]})
    def _func_format_date(self, value: str | None, fmt: str) -> str | None:
        if _empty(value):
            return None
        assert value is not None
        return _parse(value[:10], "%Y-%m-%d", "date").strftime(fmt)

    @functions.signature(_STRING_OR_NULL, {"types": ["string"]}, {"types": ["string"]})
    def _func_local_time(self, value: str | None, fmt: str, zone: str) -> str | None:
        if _empty(value):
            return None
        assert value is not None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise MappingFailed(f"{value!r} is not an ISO 8601 date and time") from None
        if moment.tzinfo is None:
            raise MappingFailed(f"{value!r} has no UTC offset")
        return moment.astimezone(_zone(zone)).strftime(fmt)

    # --- text ----------------------------------------------------------------------------------

    @functions.signature(_STRING_OR_NULL)
    def _func_upper(self, value: str | None) -> str | None:
        return None if value is None else value.upper()

    @functions.signature(_STRING_OR_NULL)
    def _func_lower(self, value: str | None) -> str | None:
        return None if value is None else value.lower()

    @functions.signature(_STRING_OR_NULL)
    def _func_strip(self, value: str | None) -> str | None:
        return None if value is None else value.strip()

    @functions.signature(_STRING_OR_NULL, {"types": ["string"]})
    def _func_split(self, value: str | None, separator: str) -> list[str] | None:
        if _empty(value):
            return None
        assert value is not None
        if separator == "":
            raise MappingFailed("split() needs a separator that is not empty")
        return [part.strip() for part in value.split(separator) if part.strip()]

    @functions.signature(_STRING_OR_NULL, {"types": ["string"]}, {"types": ["string"]})
    def _func_replace(self, value: str | None, old: str, new: str) -> str | None:
        return None if value is None or old == "" else value.replace(old, new)

    @functions.signature({"types": ["string", "number", "boolean", "null"], "variadic": True})
    def _func_concat(self, *parts: Any) -> str:
        return "".join("" if p is None else str(p) for p in parts)

    # --- absence -------------------------------------------------------------------------------

    @functions.signature({"types": []}, {"types": []})
    def _func_default(self, value: Any, fallback: Any) -> Any:
        return fallback if _empty(value) else value

    @functions.signature({"types": [], "variadic": True})
    def _func_coalesce(self, *values: Any) -> Any:
        return next((v for v in values if not _empty(v)), None)

    # --- code lists ----------------------------------------------------------------------------

    @functions.signature({"types": ["string"]}, _SCALAR_OR_NULL)
    def _func_code(self, list_name: str, value: str | float | None) -> str | None:
        if value is None or value == "":
            return None
        return _code_list(list_name).lookup(_code_text(value))

    @functions.signature({"types": ["string"]}, _SCALAR_OR_NULL)
    def _func_decode(self, list_name: str, value: str | float | None) -> str | None:
        if value is None or value == "":
            return None
        return _code_list(list_name).reverse(_code_text(value))

    # --- ids and where the record came from ----------------------------------------------------

    @functions.signature({"types": ["string"]}, {"types": ["string", "number", "null"], "variadic": True})
    def _func_stable_id(self, kind: str, *parts: Any) -> str:
        scope = _scope()
        connector = scope.context.connector if scope.context is not None else ""
        return _derived_id(connector, kind, parts, f"stable_id({kind!r}, ...)")

    @functions.signature(
        {"types": ["string"]},
        {"types": ["string"]},
        {"types": ["string", "number", "null"], "variadic": True},
    )
    def _func_stable_id_from(self, connector: str, kind: str, *parts: Any) -> str:
        # The id another connector gave its own record (CAD's incident, seen from a route), so a
        # link made here points at the record that connector's mapping created, not at a twin.
        if not connector.strip():
            raise MappingFailed(f"stable_id_from(connector, {kind!r}, ...) needs a connector name")
        return _derived_id(connector, kind, parts, f"stable_id_from({connector!r}, {kind!r}, ...)")

    @functions.signature({"types": ["string"]})
    def _func_id_of(self, output: str) -> str:
        found = _scope().ids.get(output)
        if found is None:
            raise MappingFailed(
                f"output {output!r} has produced no entity yet (is it listed before this one?)"
            )
        return found

    @functions.signature({"types": ["string"]})
    def _func_context(self, name: str) -> Any:
        names = (
            "connector",
            "source",
            "where",
            "reference",
            "received_at",
            "actor",
            "correlationid",
            "headers",
        )
        if name not in names:
            raise MappingFailed(f"context() knows {', '.join(names)}, not {name!r}")
        context = _scope().context
        if context is None:
            return None
        values: dict[str, Any] = {
            "connector": context.connector,
            "source": context.source,
            "where": context.where,
            "reference": context.reference,
            "received_at": _iso_utc(context.received_at),
            "actor": context.actor,
            "correlationid": context.correlationid,
            "headers": dict(context.headers),
        }
        return values[name]

    @functions.signature()
    def _func_record(self) -> Any:
        return _scope().record

    @functions.signature()
    def _func_index(self) -> int | None:
        return _scope().index


def _code_text(value: str | float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _code_list(name: str) -> CodeList:
    found = _scope().code_lists.get(name)
    if found is None:
        raise MappingFailed(f"no code list is named {name!r}")
    return found


FUNCTIONS = PolicingFunctions()
OPTIONS = jmespath.Options(custom_functions=FUNCTIONS)
"""The options every mapping expression is searched with."""

CUSTOM_FUNCTIONS = frozenset(PolicingFunctions.FUNCTION_TABLE) - frozenset(functions.Functions.FUNCTION_TABLE)
