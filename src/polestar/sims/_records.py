"""Checks the REST sinks share: allow-lists, field problems, idempotent replays."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi.responses import JSONResponse


def fields_not_allowed(record: Mapping[str, Any], allowed: Iterable[str], prefix: str = "") -> list[str]:
    """Names (dotted for nesting) of the fields in ``record`` outside ``allowed``.

    ``allowed`` holds dotted paths; a name that is a prefix of an allowed path
    (``keeper`` for ``keeper.name``) may hold a mapping checked the same way.
    """
    allowed = frozenset(allowed)
    found = []
    for name, value in record.items():
        path = f"{prefix}{name}"
        if path in allowed:
            continue
        if isinstance(value, Mapping) and any(a.startswith(f"{path}.") for a in allowed):
            found.extend(fields_not_allowed(value, allowed, f"{path}."))
        else:
            found.append(path)
    return found


def problems_response(problems: list[tuple[str, str]], status: int = 422) -> JSONResponse:
    """``{"errors": [{"field", "reason"}]}``: every problem at once, named by field."""
    return JSONResponse({"errors": [{"field": f, "reason": r} for f, r in problems]}, status_code=status)


def fingerprint(body: Any) -> str:
    """A stable hash of a JSON body (key order ignored)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class IdempotencyKeys:
    """Answers remembered by ``Idempotency-Key``: a repeat with the same body gets the same answer."""

    answers: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)

    def replay(self, key: str | None, body: Any) -> JSONResponse | None:
        """The remembered answer for ``key``, a 422 if ``key`` came with another body, or ``None``."""
        if not key or key not in self.answers:
            return None
        print_, status, answer = self.answers[key]
        if print_ != fingerprint(body):
            return problems_response([("Idempotency-Key", "already used with a different body")])
        return JSONResponse(answer, status_code=status, headers={"Idempotent-Replayed": "true"})

    def remember(self, key: str | None, body: Any, status: int, answer: dict[str, Any]) -> None:
        """Keep ``answer`` for repeats of ``key``."""
        if key:
            self.answers[key] = (fingerprint(body), status, answer)
