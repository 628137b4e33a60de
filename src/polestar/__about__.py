"""Polestar's version, read by the build and by ``polestar version``."""

__version__ = "0.1.0"
