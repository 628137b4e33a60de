"""Running mapping tests: each fixture's input through its mapping, compared with what it expects."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from polestar.errors import MappingFailed, ModelError
from polestar.mapping.contract import MappingContext
from polestar.mapping.loader import Fixture, MappingSet
from polestar.mapping.records import read_records
from polestar.mapping.spec import ExpectedEvent, FixtureSpec
from polestar.model.common import Entity
from polestar.model.envelope import Envelope, parse_schema_urn
from polestar.model.evolution import to_envelope
from polestar.model.registry import CANONICAL_MODELS


@dataclass(frozen=True, slots=True)
class FixtureResult:
    """The outcome of one fixture: passed, or the problems found and a diff of expected and actual."""

    name: str
    mapping: str
    where: str
    passed: bool
    problems: tuple[str, ...] = ()
    diff: str = ""

    def to_json(self) -> dict[str, Any]:
        """The result as JSON, for CI."""
        return {
            "name": self.name,
            "mapping": self.mapping,
            "where": self.where,
            "passed": self.passed,
            "problems": list(self.problems),
            "diff": self.diff,
        }


@dataclass(frozen=True, slots=True)
class MappingTestReport:
    """Every fixture's result, in the order run."""

    results: tuple[FixtureResult, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        """True when every fixture passed (and there was at least none failing)."""
        return all(result.passed for result in self.results)

    @property
    def failures(self) -> list[FixtureResult]:
        """The fixtures that failed."""
        return [result for result in self.results if not result.passed]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON, for CI."""
        failed = len(self.failures)
        return {
            "passed": len(self.results) - failed,
            "failed": failed,
            "results": [result.to_json() for result in self.results],
        }


class _BadFixture(Exception):  # noqa: N818 - internal signal: the fixture itself is wrong
    pass


def run_mapping_tests(mappings: MappingSet, fixtures: Iterable[Fixture] | None = None) -> MappingTestReport:
    """Run ``fixtures`` (by default every fixture loaded with ``mappings``) and report on each."""
    chosen = mappings.fixtures if fixtures is None else tuple(fixtures)
    return MappingTestReport(tuple(run_fixture(mappings, fixture) for fixture in chosen))


def run_fixture(mappings: MappingSet, fixture: Fixture) -> FixtureResult:
    """Run one fixture."""
    spec = fixture.spec

    def result(problems: list[str], diff: str = "") -> FixtureResult:
        return FixtureResult(spec.name, spec.mapping, fixture.where, not problems, tuple(problems), diff)

    direction = mappings.direction(spec.mapping)
    try:
        if direction == "inbound":
            actual: Any = _run_inbound(mappings, fixture)
        elif direction == "outbound":
            actual = mappings.outbound(spec.mapping).from_canonical(_input_event(spec))
        else:
            return result([f"no mapping is named {spec.mapping!r}"])
    except MappingFailed as exc:
        return result(_failure_problems(spec, exc))
    except _BadFixture as exc:
        return result([f"the fixture's input is not usable: {exc}"])
    if spec.failure is not None:
        return result([f"expected the mapping to fail, but it gave {_text(_summary(actual))}"])
    if direction == "inbound":
        return result(*_compare_events(spec.events or [], actual, exact=spec.match == "exact"))
    problems = mismatches(normalise(spec.record), actual, "record", exact=spec.match == "exact")
    shown = actual if spec.match == "exact" else project(normalise(spec.record), actual)
    return result(problems, _diff(normalise(spec.record), shown) if problems else "")


def _run_inbound(mappings: MappingSet, fixture: Fixture) -> list[Envelope]:
    spec = fixture.spec
    if spec.raw is not None:
        assert spec.format is not None
        try:
            records = read_records(spec.raw, spec.format)
        except ValueError as exc:
            raise _BadFixture(f"raw {spec.format}: {exc}") from None
    else:
        records = [normalise(spec.input)]  # a record from JSON or CSV never holds YAML's dates
    mapping = mappings.inbound(spec.mapping)
    events: list[Envelope] = []
    for number, record in enumerate(records, start=1):
        context = MappingContext(
            connector=spec.context.connector,
            source=spec.context.source,
            where=f"{fixture.where} record {number}",
            received_at=spec.context.received_at,
            reference=spec.context.reference,
            headers=dict(spec.context.headers),
            actor=spec.context.actor,
            correlationid=spec.context.correlationid,
        )
        events.extend(mapping.to_canonical(record, context))
    return events


def _input_event(spec: FixtureSpec) -> Envelope:
    given = normalise(spec.input)
    if not isinstance(given, dict):
        raise _BadFixture("an outbound fixture's input is an event: {type, schema, data} or a CloudEvent")
    try:
        if "specversion" in given:
            return Envelope.model_validate(given)
        model = CANONICAL_MODELS.get(str(given.get("schema")))
        if model is None or not issubclass(model, Entity):
            raise _BadFixture(f"schema {given.get('schema')!r} is not a canonical entity schema")
        entity = model.model_validate(given.get("data"))
        return to_envelope(entity, type=str(given.get("type")), source="/fixtures")
    except (ValidationError, ModelError, ValueError) as exc:
        raise _BadFixture(str(exc)) from None


def _failure_problems(spec: FixtureSpec, exc: MappingFailed) -> list[str]:
    expected = spec.failure
    if expected is None:
        return [f"the mapping failed: {exc}"]
    problems = []
    if expected.field is not None and expected.field != exc.field:
        problems.append(
            f"expected the failure to name field {expected.field!r}, it named {exc.field!r} ({exc})"
        )
    if expected.reason is not None and expected.reason not in exc.reason:
        problems.append(f"expected the reason to contain {expected.reason!r}, it was {exc.reason!r}")
    return problems


def _compare_events(
    expected: list[ExpectedEvent], actual: list[Envelope], *, exact: bool
) -> tuple[list[str], str]:
    problems: list[str] = []
    if len(expected) != len(actual):
        types = ", ".join(e.type for e in actual) or "none"
        problems.append(f"expected {len(expected)} event(s), got {len(actual)}: {types}")
    wanted_view, actual_view = [], []
    for number, (want, got) in enumerate(zip(expected, actual, strict=False)):
        want_json = normalise(want.model_dump(by_alias=True, exclude_none=True))
        got_json = _event_view(got)
        problems.extend(
            mismatches(
                want_json, got_json, f"events[{number}]", exact=False, exact_under="data" if exact else None
            )
        )
        wanted_view.append(want_json)
        shown = project(want_json, got_json)
        if exact and "data" in want_json and "data" in got_json:
            shown["data"] = got_json["data"]
        actual_view.append(shown)
    wanted_view.extend(
        normalise(w.model_dump(by_alias=True, exclude_none=True)) for w in expected[len(actual) :]
    )
    actual_view.extend(_event_view(a) for a in actual[len(expected) :])
    return problems, _diff(wanted_view, actual_view) if problems else ""


def _event_view(event: Envelope) -> dict[str, Any]:
    schema = parse_schema_urn(event.dataschema)[0] if event.dataschema else None
    view = {
        "type": event.type,
        "schema": schema,
        "subject": event.subject,
        "partitionkey": event.partitionkey,
        "classification": event.classification,
        "data": event.data,
    }
    return {key: value for key, value in view.items() if value is not None}


def _summary(actual: Any) -> Any:
    if isinstance(actual, list) and all(isinstance(e, Envelope) for e in actual):
        return [e.type for e in actual]
    return actual


def normalise(value: Any) -> Any:
    """YAML's dates and times as the JSON text the model writes."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    return value


ANY = "<any>"
"""An expected value that matches whatever the mapping gave (an event id, the time now)."""


def _same(expected: Any, actual: Any) -> bool:
    if expected in (actual, ANY):
        return True
    if isinstance(expected, str) and isinstance(actual, str):
        try:
            return datetime.fromisoformat(expected) == datetime.fromisoformat(actual)
        except ValueError:
            return False
    return False


def mismatches(
    expected: Any, actual: Any, path: str, *, exact: bool, exact_under: str | None = None
) -> list[str]:
    """Where ``actual`` differs from ``expected``; keys missing from ``expected`` count only if ``exact``."""
    if expected == ANY:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {_text(actual)}"]
        found = []
        for key, value in expected.items():
            strict = exact or key == exact_under
            if key not in actual:
                found.append(f"{path}.{key}: missing (expected {_text(value)})")
            else:
                found.extend(mismatches(value, actual[key], f"{path}.{key}", exact=strict))
        if exact:
            found.extend(
                f"{path}.{key}: not expected (got {_text(actual[key])})"
                for key in actual
                if key not in expected
            )
        return found
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {_text(expected)}, got {_text(actual)}"]
        return [
            p
            for n, (e, a) in enumerate(zip(expected, actual, strict=True))
            for p in mismatches(e, a, f"{path}[{n}]", exact=exact)
        ]
    return [] if _same(expected, actual) else [f"{path}: expected {_text(expected)}, got {_text(actual)}"]


def project(expected: Any, actual: Any) -> Any:
    """``actual`` cut down to the keys ``expected`` has, so a diff shows only what was compared."""
    if expected == ANY:
        return ANY
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {
            key: project(expected[key], actual[key]) if key in expected else actual[key]
            for key in actual
            if key in expected
        }
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [project(e, a) for e, a in zip(expected, actual, strict=True)]
    return actual


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _diff(expected: Any, actual: Any) -> str:
    def lines(value: Any) -> list[str]:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str).splitlines()

    return "\n".join(difflib.unified_diff(lines(expected), lines(actual), "expected", "actual", lineterm=""))
