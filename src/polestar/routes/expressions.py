"""JMESPath expressions over an envelope, compiled once when a route is loaded.

An expression sees the envelope as its CloudEvents JSON dict: ``data.kind``,
``type``, ``partitionkey``, ``data.people[0].surname``. A syntax error is found
when the configuration is validated, never when the first message arrives.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.parser

from polestar.bus.worker import Reject
from polestar.model.envelope import Envelope


def check_expression(text: str) -> str:
    """Validate a JMESPath expression, raising ``ValueError`` that says what is wrong."""
    compiled(text)
    return text


@lru_cache(maxsize=1024)
def compiled(text: str) -> jmespath.parser.ParsedResult:
    """The parsed form of ``text``; raises ``ValueError`` for a syntax error."""
    try:
        return jmespath.compile(text)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(f"not a valid JMESPath expression {text!r}: {_parse_problem(exc)}") from None


def envelope_view(envelope: Envelope) -> dict[str, Any]:
    """The dict expressions see: the envelope in CloudEvents JSON form, unset attributes left out."""
    return envelope.model_dump(mode="json", exclude_none=True)


def evaluate(text: str, envelope: Envelope | dict[str, Any]) -> Any:
    """The value of expression ``text`` over ``envelope``; a runtime type error becomes ``ValueError``."""
    view = envelope_view(envelope) if isinstance(envelope, Envelope) else envelope
    try:
        return compiled(text).search(view)
    except (jmespath.exceptions.JMESPathError, TypeError, ValueError) as exc:
        # jmespath lets Python's own TypeError out for some mismatches, e.g. ordering int and str.
        raise ValueError(f"expression {text!r} failed: {_first_line(exc)}") from None


def truthy(value: Any) -> bool:
    """JMESPath truth: false, null, empty strings, lists and objects are false."""
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | dict) and not value)


def _parse_problem(exc: jmespath.exceptions.JMESPathError) -> str:
    position = getattr(exc, "lex_position", None)
    if isinstance(exc, jmespath.exceptions.IncompleteExpressionError):
        return "the expression is incomplete"
    token = getattr(exc, "token_value", None)
    if position is not None:
        near = f" near {token!r}" if token is not None else ""
        return f"unexpected input at character {position + 1}{near}"
    return _first_line(exc)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def evaluate_for(step: str, text: str, envelope: Envelope | dict[str, Any]) -> Any:
    """``evaluate`` for a step: a failing expression dead-letters the message, naming the step.

    The same expression over the same message would fail again, so retrying cannot help.
    """
    try:
        return evaluate(text, envelope)
    except ValueError as exc:
        raise Reject(f"{step}: {exc}") from None
