"""``polestar version``: what is installed."""

from __future__ import annotations

import platform

from polestar.__about__ import __version__
from polestar.cli._output import out
from polestar.model import MODEL_VERSION


def version() -> None:
    """Print the Polestar version, the canonical model version and the Python running it."""
    out().print(f"polestar {__version__}")
    out().print(f"canonical model {MODEL_VERSION}")
    out().print(f"python {platform.python_version()}")
