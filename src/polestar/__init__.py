"""Polestar: an open, interoperability-first integration hub for policing and justice.

The public surface is organised by component (see ``DESIGN.md``):
``polestar.model`` (the POLE data dictionary and the CloudEvents envelope),
``polestar.bus`` (the durable event bus), ``polestar.config`` (hub
configuration), ``polestar.api`` and ``polestar.cli`` (the ways in).
"""

from polestar.__about__ import __version__

__all__ = ["__version__"]
