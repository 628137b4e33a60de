"""Seams that run *inside* the store's own write transaction: how the audit log's entries survive a crash.

A callback told of a change after the commit (``StoreWriter.on_applied``,
``SqlStore.on_merge``) loses what it was told if the process dies in between.
These seams close that gap without the store importing ``polestar.audit``:

* an ``ApplyIntent``, ``MergeIntent`` or ``ErasureIntent`` is called on the worker thread, on the
  transaction's own connection, before the commit. It may write rows there (the
  audit log's pending intent): they commit with the store's change, or neither does.
  Raising rolls the change back and fails the call.
* it returns an ``AfterCommit`` (or None): the store awaits it once the transaction
  has committed (the audit log appends the entry at once and clears the intent). It
  should not raise; what it promised is already durable.

The store calls ``ApplyIntent`` only for results that created or changed a record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import Connection

from polestar.model.envelope import Envelope
from polestar.store.records import ApplyResult, ErasureSummary, MergeRecord

AfterCommit = Callable[[], Awaitable[None]]
"""What to do once the store's transaction has committed."""

ApplyIntent = Callable[[Connection, Envelope, ApplyResult], AfterCommit | None]
"""Called in the transaction of an ``apply`` that created or updated a record."""

MergeIntent = Callable[[Connection, MergeRecord], AfterCommit | None]
"""Called in the transaction of a ``merge`` or ``unmerge`` (``unmerged_at`` set on an unmerge)."""

ErasureIntent = Callable[[Connection, ErasureSummary], AfterCommit | None]
"""Called in the transaction of an erasure, after the store's rows are deleted (ids and counts, no
content; the hooks run after the commit, so ``hook_rows`` is still empty)."""
