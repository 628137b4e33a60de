"""The force in a box: every simulator wired to a running hub, and the flows that run through it.

``polestar demo`` and the end-to-end flow tests share this package: the demo
shows the flows moving, the tests assert on the same runs.
"""
