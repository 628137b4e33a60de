"""``python -m polestar.cli``: the same as the ``polestar`` command."""

from polestar.cli import main

main()
