"""The store's errors, in one tree under ``PolestarError``.

::

    PolestarError
    └── StoreError                  the POLE store
        ├── NotAnEntity             an event carries no POLE entity the store can hold (dead-letter it)
        ├── EntityNotFound          no entity has the id given (or the caller may not see it)
        ├── MergeRefused            a merge or unmerge that cannot be done (names why)
        ├── MergeNotFound           no merge has the id given
        └── ErasureIncomplete       the store's rows are gone but an erasure hook failed: run it again
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from polestar.errors import PolestarError

if TYPE_CHECKING:
    from polestar.store.records import ErasureSummary


class StoreError(PolestarError):
    """Something went wrong in the POLE store."""


class NotAnEntity(StoreError):  # noqa: N818 - reads as the verdict on the event
    """The event carries no POLE entity the store can hold; retrying cannot help."""


class EntityNotFound(StoreError):  # noqa: N818 - reads as the answer the caller gets
    """No entity has the id given, or the caller's clearance does not let them see it."""


class MergeRefused(StoreError):  # noqa: N818 - reads as what the store did
    """The merge or unmerge cannot be done: the message says why."""


class MergeNotFound(StoreError):  # noqa: N818 - reads as the answer the caller gets
    """No merge has the id given."""


class ErasureIncomplete(StoreError):  # noqa: N818 - a state, named as operators say it
    """The store's rows were erased but one or more erasure hooks failed; ``summary`` says which."""

    def __init__(self, summary: ErasureSummary) -> None:
        self.summary = summary
        failed = ", ".join(f"{name}: {why}" for name, why in summary.hook_failures.items())
        super().__init__(f"erasure of {summary.subject_id} is incomplete; hooks failed: {failed}")
