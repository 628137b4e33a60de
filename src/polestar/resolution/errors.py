"""Resolution errors.

::

    ResolutionError
     +-- ReviewNotFound     no review with that id
     +-- ReviewDecided      the review was decided already
"""

from __future__ import annotations


class ResolutionError(Exception):
    """Base of every resolution error."""


class ReviewNotFound(ResolutionError):  # noqa: N818 - reads as the answer the caller gets
    """No review with that id."""


class ReviewDecided(ResolutionError):  # noqa: N818 - reads as the state the review is in
    """The review was decided already; a decision is made once."""
