"""Search errors the API turns into answers.

::

    SearchError
     +-- SearchUnavailable       the store is not running (503)
     +-- ConsultationRefused     the search may not be made as asked, e.g. no purpose stated (400)
     +-- ConsultationUnrecorded  the consultation could not be recorded, so nothing is shown (503)
"""

from __future__ import annotations


class SearchError(Exception):
    """Base of the search errors."""


class SearchUnavailable(SearchError):  # noqa: N818 - reads as the state
    """The store (and so search) is not running now; the message says why."""


class ConsultationRefused(SearchError):  # noqa: N818 - reads as the answer
    """The search is refused as asked (the refusal itself is recorded); the message says what to do."""


class ConsultationUnrecorded(SearchError):  # noqa: N818 - reads as the state
    """The audit log could not record the search, so its results are withheld."""
