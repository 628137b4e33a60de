"""Authorisation decided by Cedar policies a force can read and edit (``policies/*.cedar``).

``PolicyEngine.decide(principal, action, resource)`` asks Cedar and returns a
``Decision`` naming the policies (by ``@id``) that decided it. It fails
closed: a policy that errors while being evaluated (say, a misspelt
attribute) turns the answer into a deny, never into an allow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import cedarpy
import yaml
from pydantic import BaseModel, ConfigDict, Field

from polestar.errors import ConfigError
from polestar.model.marking import OFFICIAL, ProtectiveMarking
from polestar.security.principal import Principal

log = logging.getLogger(__name__)

DEFAULT_DENY = "default-deny"
"""Named as the deciding policy when no permit matched."""
EVALUATION_ERROR = "policy-evaluation-error"
"""Named when a policy failed to evaluate: the request is denied (fail closed)."""
PURPOSE_PREFIX = "purpose-"
FIELDS_FILE = "fields.yaml"
SCHEMA_FILE = "schema.cedarschema"
_FIELD_CACHE_LIMIT = 10_000


class Resource(BaseModel):
    """What an action is on: an API operation, a record, an event, a device or one field of a record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=1024)
    kind: str = Field(default="api", description="api, record, event, device or field.")
    marking: ProtectiveMarking = Field(default=OFFICIAL)
    category: str = Field(default="", max_length=128)

    @classmethod
    def api(cls, path: str, template: str = "") -> Resource:
        """An API operation: its path, and its route's template as category (OFFICIAL)."""
        return cls(id=(path or "/")[:1024], kind="api", category=(template or path)[:128])

    @classmethod
    def record(cls, record: Mapping[str, Any], *, category: str = "") -> Resource:
        """A stored record (a dict with ``id`` and ``marking``); an unreadable marking is TOP SECRET."""
        return cls(
            id=str(record.get("id") or "record")[:1024],
            kind="record",
            marking=marking_of(record.get("marking", record.get("classification"))),
            category=category or str(record.get("kind") or record.get("schema_name") or ""),
        )

    @classmethod
    def event(cls, event_id: str, event_type: str, classification: str | None) -> Resource:
        """An event on the bus: its category is the first word of its type (``custody`` ...)."""
        return cls(
            id=f"event:{event_id}",
            kind="event",
            marking=marking_of(classification),
            category=event_type.split(".", 1)[0],
        )

    @classmethod
    def device(cls, device_id: str) -> Resource:
        """An officer's device (its dispatch feed, its unit's status): the category is its id."""
        return cls(id=f"device:{device_id}"[:1024], kind="device", category=device_id[:128])

    @classmethod
    def field(cls, path: str, category: str) -> Resource:
        """One field of a record, for redaction."""
        return cls(id=f"field:{path}", kind="field", category=category)


MOST_RESTRICTED = ProtectiveMarking.parse("TOP SECRET [UNREADABLE MARKING]")


def marking_of(value: Any) -> ProtectiveMarking:
    """A record's marking from a label or a dict; absent is OFFICIAL, unreadable is most restricted."""
    if value is None:
        return OFFICIAL
    try:
        if isinstance(value, ProtectiveMarking):
            return value
        if isinstance(value, str):
            return ProtectiveMarking.parse(value)
        return ProtectiveMarking.model_validate(value)
    except ValueError:
        # Fail closed: a record whose marking cannot be read is shown to nobody below TOP SECRET.
        return MOST_RESTRICTED


@dataclass(frozen=True)
class Decision:
    """What policy said about one request, and which policies said it."""

    allowed: bool
    principal: str
    action: str
    resource: str
    policies: tuple[str, ...]
    """The ``@id`` of each deciding policy; ``default-deny`` when no permit matched."""
    errors: tuple[str, ...] = ()

    @property
    def needs_purpose(self) -> bool:
        """Refused only for want of a stated purpose."""
        return not self.allowed and any(p.startswith(PURPOSE_PREFIX) for p in self.policies)

    def describe(self) -> str:
        """One line for logs and refusals."""
        verdict = "allowed" if self.allowed else "denied"
        return f"{self.action} on {self.resource} {verdict} by {', '.join(self.policies)}"


class PolicyEngine:
    """Cedar policies and the field categories, parsed once; thread-safe and immutable."""

    def __init__(self, policies: str, fields: Mapping[str, str], *, source: str = "built-in") -> None:
        self.source = source
        self.fields = dict(fields)
        try:
            self._policies = cedarpy.PolicySet.from_str(policies)
        except ValueError as exc:
            raise ConfigError(source, [(source, f"the Cedar policies do not parse: {exc}")]) from None
        self._field_cache: dict[tuple[Any, ...], Decision] = {}

    @classmethod
    def load(cls, folder: Path | None = None) -> PolicyEngine:
        """Every ``*.cedar`` file and ``fields.yaml`` in ``folder`` (default: the built-in policies)."""
        if folder is None:
            package = resources.files("polestar.security") / "policies"
            texts = {f"policies/{e.name}": e.read_text("utf-8") for e in package.iterdir() if e.is_file()}
            source = "built-in policies"
        else:
            if not folder.is_dir():
                raise ConfigError(str(folder), [(str(folder), "the policy folder does not exist")])
            texts = {str(p): p.read_text("utf-8") for p in sorted(folder.iterdir()) if p.is_file()}
            source = str(folder)
        cedar = {name: text for name, text in sorted(texts.items()) if name.endswith(".cedar")}
        if not cedar:
            raise ConfigError(source, [(source, "no *.cedar policy files: nothing would be allowed")])
        problems: list[tuple[str, str]] = []
        schema = next((t for n, t in texts.items() if Path(n).name == SCHEMA_FILE), None)
        if schema is None:
            schema = (resources.files("polestar.security") / "policies" / SCHEMA_FILE).read_text("utf-8")
        for name, text in cedar.items():
            problems.extend(_check_policies(name, text, schema))
        fields_text = next((t for n, t in texts.items() if Path(n).name == FIELDS_FILE), "fields: {}")
        fields = _fields(fields_text, f"{source}/{FIELDS_FILE}", problems)
        if problems:
            raise ConfigError(source, problems)
        return cls("\n".join(cedar.values()), fields, source=source)

    def decide(
        self, principal: Principal, action: str, resource: Resource, *, purpose: str | None = None
    ) -> Decision:
        """Ask the policies whether ``principal`` may do ``action`` on ``resource``."""
        purpose = (purpose or "").strip()
        request = {
            "principal": {"type": "Caller", "id": principal.subject},
            "action": {"type": "Action", "id": action},
            "resource": {"type": "Resource", "id": resource.id},
            "context": {"purpose": purpose, "has_purpose": bool(purpose)},
        }
        entities = [*_principal_entities(principal), _resource_entity(resource)]
        result = cedarpy.is_authorized(request, self._policies, entities)
        errors = tuple(str(e) for e in result.diagnostics.errors)
        names = result.diagnostics.id_annotations_by_reason
        policies = tuple(sorted(names.get(r) or r for r in result.diagnostics.reasons))
        allowed = result.allowed and not errors
        if errors:
            log.error("policy evaluation failed, so the request is denied: %s", "; ".join(errors))
            policies = (*policies, EVALUATION_ERROR)
        elif not allowed and not policies:
            policies = (DEFAULT_DENY,)
        return Decision(allowed, principal.subject, action, resource.id, policies, errors)

    def may_see_field(self, principal: Principal, path: str) -> Decision:
        """Whether ``principal`` may see the field at ``path`` (cached per caller and field)."""
        key = (principal.subject, principal.roles, principal.clearance, path)
        cached = self._field_cache.get(key)
        if cached is None:
            if len(self._field_cache) >= _FIELD_CACHE_LIMIT:
                self._field_cache.clear()
            category = self.fields.get(path, "")
            cached = self.decide(principal, "field.see", Resource.field(path, category))
            self._field_cache[key] = cached
        return cached


def _check_policies(name: str, text: str, schema: str) -> list[tuple[str, str]]:
    try:
        cedarpy.PolicySet.from_str(text)
    except ValueError as exc:
        return [(name, f"does not parse: {exc}")]
    try:
        result = cedarpy.validate_policies(text, schema)
    except ValueError as exc:
        return [(name, f"cannot be checked: the schema ({SCHEMA_FILE}) is invalid: {exc}")]
    ids = result.id_annotations_by_policy_id
    return [
        (f"{name} policy {ids.get(error.policy_id) or error.policy_id}", error.error)
        for error in result.errors
    ]


def _fields(text: str, where: str, problems: list[tuple[str, str]]) -> dict[str, str]:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        problems.append((where, f"is not YAML: {exc}"))
        return {}
    fields = document.get("fields", {}) if isinstance(document, dict) else None
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
    ):
        problems.append((where, "must be 'fields:' mapping dotted field paths to category names"))
        return {}
    return fields


def _principal_entities(principal: Principal) -> list[dict[str, Any]]:
    clearance = principal.clearance
    caller = {
        "uid": {"type": "Caller", "id": principal.subject},
        "attrs": {
            "kind": principal.kind,
            "clearance": clearance.classification.rank,
            "sensitive": clearance.sensitive or clearance.classification.rank > 0,
            "caveats": sorted(clearance.caveats),
            "device": principal.device or "",
        },
        "parents": [{"type": "Role", "id": role} for role in sorted(principal.roles)],
    }
    roles = [{"uid": {"type": "Role", "id": r}, "attrs": {}, "parents": []} for r in sorted(principal.roles)]
    return [caller, *roles]


def _resource_entity(resource: Resource) -> dict[str, Any]:
    return {
        "uid": {"type": "Resource", "id": resource.id},
        "attrs": {
            "kind": resource.kind,
            "classification": resource.marking.classification.rank,
            "sensitive": resource.marking.sensitive,
            "caveats": sorted(resource.marking.caveats),
            "category": resource.category,
        },
        "parents": [],
    }
