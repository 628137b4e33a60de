"""The POLE data dictionary in code: People, Objects, Locations, Events, links and the envelope."""

from polestar.model.envelope import Envelope
from polestar.model.marking import Classification, ProtectiveMarking
from polestar.model.registry import CANONICAL_MODELS, MODEL_VERSION

__all__ = [
    "CANONICAL_MODELS",
    "MODEL_VERSION",
    "Classification",
    "Envelope",
    "ProtectiveMarking",
]
