"""The command line: ``polestar up``, ``demo``, ``version``, ``config``, ``schema`` and ``bus``.

A thin way in over the hub's components; see ``polestar --help``.
"""

from polestar.cli.app import main, root

__all__ = ["main", "root"]
