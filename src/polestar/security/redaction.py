"""Field-level redaction: what a caller may see of a record it may see.

Each field named in the policy folder's ``fields.yaml`` belongs to a category;
the policies decide, per caller and category, whether it is visible
(``field.see``). Hidden fields are removed, and their paths returned so the
decision can be recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polestar.security.policy import PolicyEngine
from polestar.security.principal import Principal

MAX_DEPTH = 32


def redact(
    engine: PolicyEngine, principal: Principal, record: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``record`` without the fields ``principal`` may not see, and the paths removed."""
    if not engine.fields:
        return dict(record), []
    redactor = _Redactor(engine, principal)
    return redactor.mapping(record, "", 0), redactor.removed


class _Redactor:
    def __init__(self, engine: PolicyEngine, principal: Principal) -> None:
        self.engine = engine
        self.principal = principal
        self.removed: list[str] = []

    def mapping(self, data: Mapping[str, Any], prefix: str, depth: int) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, value in data.items():
            path = f"{prefix}{key}"
            if path in self.engine.fields and not self.engine.may_see_field(self.principal, path).allowed:
                self.removed.append(path)
                continue
            kept[key] = self.value(value, path, depth + 1)
        return kept

    def value(self, value: Any, path: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            return value
        if isinstance(value, Mapping):
            return self.mapping(value, f"{path}.", depth)
        if isinstance(value, list | tuple):
            # List positions are left out of paths: every item of "identifiers" is "identifiers".
            return [self.value(item, path, depth + 1) for item in value]
        return value
