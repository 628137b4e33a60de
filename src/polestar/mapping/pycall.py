"""Importing the Python a mapping names: ``package.module:name``, at load time, with a clear error."""

from __future__ import annotations

import importlib
from typing import Any


def import_object(reference: str) -> Any:
    """The object ``reference`` (``package.module:name``) names; ``ValueError`` saying why if it can't."""
    module_name, colon, attribute = reference.partition(":")
    if not colon or not module_name.strip() or not attribute.strip():
        raise ValueError(f"{reference!r} is not of the form 'package.module:name'")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a module that breaks on import is a configuration problem to report
        raise ValueError(f"importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    found: Any = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise ValueError(f"module {module_name!r} has no {attribute!r}") from None
    return found
