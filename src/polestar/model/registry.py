"""The canonical schemas: every model published as JSON Schema and in the data dictionary.

``CANONICAL_MODELS`` maps a schema name (used in ``dataschema`` URNs and in
file names under ``docs/``) to its pydantic model. ``MODEL_VERSION`` is the
version of the canonical model as a whole (``MAJOR.MINOR``); see
``docs/model-evolution.md`` for how it changes.
"""

from __future__ import annotations

from pydantic import BaseModel

from polestar.model.envelope import Envelope
from polestar.model.marking import ProtectiveMarking

MODEL_VERSION = "1.0"

CANONICAL_MODELS: dict[str, type[BaseModel]] = {
    "envelope": Envelope,
    "protective-marking": ProtectiveMarking,
}
